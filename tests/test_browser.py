"""A real browser (headless Chromium, driven by Playwright) opens the served example site.

Screenshots go to test-artifacts/ for a person to look at. Under CI (CI=true)
a missing browser or Playwright is a failure; elsewhere the tests skip, saying why.
The sandbox has no internet, so requests leaving 127.0.0.1 are answered by the
test: article images with a stand-in picture, anything else refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedpub.config import load_config
from feedpub.publish import build
from tests.conftest import REPO
from tests.serving import Served, serve_in_thread

ARTIFACTS = REPO / "test-artifacts"
BASE_URL = "https://news.example.org/feeds/"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WCAG_AA = 4.5  # minimum contrast of normal text (WCAG 2.2, 1.4.3)

_CONTRAST_JS = """
(selectors) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return selectors.map((s) => {
    const el = document.querySelector(s);
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    return [s, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser test must run; .ci/run installs Chromium)")
    pytest.skip(reason)


def _chromium() -> str:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    _unavailable("no Chromium here: apt-get install chromium")
    raise AssertionError  # pragma: no cover - _unavailable always raises


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The bundled example, built as if published at https://news.example.org/feeds/."""
    config = load_config(REPO / "config.toml")
    out = tmp_path_factory.mktemp("browser") / "feeds"
    build(replace(config, out=out, base_url=BASE_URL), datetime(2026, 11, 27, tzinfo=UTC))
    with serve_in_thread(out, prefix="/feeds/") as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _stand_in(route: Any) -> None:
    request = route.request
    if request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    elif request.resource_type == "image":
        hue = int(hashlib.sha256(request.url.encode()).hexdigest()[:2], 16) * 360 // 256
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 9">'
            '<linearGradient id="g" x2="1" y2="1">'
            f'<stop stop-color="hsl({hue},55%,62%)"/>'
            f'<stop offset="1" stop-color="hsl({(hue + 50) % 360},60%,38%)"/></linearGradient>'
            '<rect width="16" height="9" fill="url(#g)"/>'
            '<circle cx="12" cy="3" r="1.6" fill="#fff" fill-opacity=".35"/></svg>'
        )
        route.fulfill(status=200, content_type="image/svg+xml", body=svg)
    else:
        route.abort()


def _page(browser: Any, **options: Any) -> Any:
    context = browser.new_context(**options)
    context.route("**/*", _stand_in)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _open(page: Any, url: str) -> Any:
    response = page.goto(url)
    # Full-page screenshots do not scroll, so lazy images below the fold would stay blank.
    page.evaluate(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
    )
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    return response


def _shot(page: Any, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def _assert_contrast(page: Any, selectors: list[str]) -> None:
    for selector, ratio in page.evaluate(_CONTRAST_JS, selectors):
        assert ratio >= WCAG_AA, f"{selector}: contrast {ratio:.2f} is below {WCAG_AA}"


def _dismiss_xslt_banner(page: Any) -> bool:
    """Chromium 15x overlays pages made by XSLT with a notice that XSLT is being removed."""
    close = page.locator("xslt-warning-banner button[aria-label=Close]")
    if close.count() == 0:
        return False
    close.click()
    return True


def test_the_landing_page_in_a_browser(browser: Any, example: Served) -> None:
    page = _page(browser, viewport=DESKTOP, color_scheme="light")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _open(page, example.url)
    text = page.inner_text("body")
    assert page.title() == "Lantern Tech Digest"
    for expected in (
        "Follow the news in your feed reader",
        "Artificial Intelligence",
        "Harbor Ledger",
        "OPML subscription list",
        BASE_URL + "topics/space/rss.xml",
    ):
        assert expected in text
    assert page.locator("main").count() == 1 and page.locator("h1").count() == 1
    _shot(page, "index-desktop")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip", "the skip link comes first"
    assert page.locator("a.skip").bounding_box()["x"] >= 0, "and shows when focused"

    copy = page.get_by_role("button", name="Copy the feed address of Space")
    assert copy.is_visible(), "JavaScript shows the copy buttons"
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()") == BASE_URL + "topics/space/rss.xml"
    assert page.inner_text("#copy-status").startswith("Feed address copied")
    _assert_contrast(page, ["body", ".lede", ".pill", ".newest", ".formats a", "button.copy"])
    page.context.close()

    phone = _page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    _open(phone, example.url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways"
    _shot(phone, "index-phone", full_page=False)
    phone.context.close()

    dark = _page(browser, viewport=DESKTOP, color_scheme="dark")
    _open(dark, example.url)
    _assert_contrast(dark, ["body", ".lede", ".pill", ".newest", ".formats a", "button.copy"])
    _shot(dark, "index-dark", full_page=False)
    dark.context.close()


def test_without_javascript_the_addresses_are_there_and_no_button_is(
    browser: Any, example: Served
) -> None:
    page = _page(browser, viewport=DESKTOP, java_script_enabled=False)
    _open(page, example.url)
    address = page.locator("#url-topics-space")
    assert address.is_visible() and address.inner_text() == BASE_URL + "topics/space/rss.xml"
    assert page.locator("button.copy:visible").count() == 0
    page.context.close()


def test_a_topic_rss_feed_opens_as_a_readable_page(browser: Any, example: Served) -> None:
    page = _page(browser, viewport=DESKTOP, color_scheme="light")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    response = _open(page, example.url + "topics/space/rss.xml")
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    _shot(page, "rss-as-opened", full_page=False)  # with Chromium's XSLT notice, if any
    _dismiss_xslt_banner(page)
    assert page.inner_text("h1") == "Space — Lantern Tech Digest"
    text = page.inner_text("body")
    assert "This is a news feed: follow it in a feed reader" in text
    assert "copy this address into your feed reader" in text
    assert BASE_URL + "topics/space/rss.xml" in text
    assert "Space Weather Forecasters Warn of an Active Winter" in text
    assert "Orbit Journal · 2 Nov 2026" in text
    assert page.locator("ol.items > li").count() == 5
    assert page.locator("ol.items img").first.evaluate("i => i.naturalWidth") > 0
    _shot(page, "rss-desktop")

    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == BASE_URL + "topics/space/rss.xml"
    page.get_by_role("link", name="Open the web page").click()
    page.wait_for_url(example.url + "topics/space/")
    assert page.inner_text("h1") == "Space"
    page.context.close()

    phone = _page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    _open(phone, example.url + "topics/space/rss.xml")
    _dismiss_xslt_banner(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(phone, "rss-phone", full_page=False)
    phone.context.close()


def test_an_atom_feed_and_a_feed_page_in_a_browser(browser: Any, example: Served) -> None:
    page = _page(browser, viewport=DESKTOP, color_scheme="dark")
    _open(page, example.url + "topics/artificial-intelligence/atom.xml")
    _dismiss_xslt_banner(page)
    assert page.inner_text("h1") == "Artificial Intelligence — Lantern Tech Digest"
    assert "Atom feed" in page.inner_text("header")
    assert page.locator("ol.items > li").count() >= 10
    _assert_contrast(page, ["body", ".lede", ".meta", ".formats a"])
    _shot(page, "atom-dark", full_page=False)

    _open(page, example.url + "topics/space/")
    page.emulate_media(color_scheme="light")
    assert page.inner_text("h1") == "Space"
    assert "Follow Space in your feed reader" in page.inner_text("main")
    _shot(page, "topic-page-desktop")
    page.context.close()


def test_a_preview_with_the_base_url_rewritten_stays_on_the_local_server(
    browser: Any, example: Served
) -> None:
    with serve_in_thread(Path(example.server.root), base_url=BASE_URL) as preview:
        page = _page(browser, viewport=DESKTOP)
        response = _open(page, preview.url + "topics/space/rss.xml")
        assert response.headers["content-type"] == "application/xml; charset=utf-8"
        _dismiss_xslt_banner(page)
        assert page.inner_text("h1") == "Space — Lantern Tech Digest", "the stylesheet applied"
        text = page.inner_text("body")
        assert preview.url + "topics/space/rss.xml" in text and BASE_URL not in text
        page.get_by_role("link", name="Open the web page").click()
        page.wait_for_url(preview.url + "topics/space/")
        assert page.inner_text("h1") == "Space"
        _open(page, preview.url)
        hrefs = page.eval_on_selector_all("link[rel=alternate]", "links => links.map(l => l.href)")
        assert hrefs and all(h.startswith(preview.url) for h in hrefs)
        assert page.request.get(hrefs[0]).status == 200
        page.context.close()
