// Copy buttons: hidden in the markup, shown only where the clipboard API works. Without
// JavaScript the address stays visible and selects with one click (CSS user-select: all).
(function () {
  if (!navigator.clipboard) return;
  var status = document.getElementById("copy-status");
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = "Copied";
        if (status) status.textContent = "Feed address copied: " + text;
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {
        window.getSelection().selectAllChildren(document.getElementById(button.getAttribute("data-copy")));
      });
    });
  });
})();
