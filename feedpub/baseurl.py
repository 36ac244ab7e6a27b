"""The site's base URL: checked to be an absolute http(s) URL, and put in its ASCII form.

Every URL in every feed starts with it, so a base URL that is not a valid URL
(RFC 3986) makes every feed invalid: a space, a control character, a port that
is not a number from 1 to 65535, an empty host, or another scheme is refused
with a message naming it. An internationalized host name is written in its
ASCII form (IDNA: ``bücher.example`` → ``xn--bcher-kva.example``) and the path
percent-encoded, as RSS 2.0 and the W3C validator want URLs, not IRIs; an
ASCII host and an already valid path are kept exactly as given, so feed ids
made from them do not change.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit

from .errors import ConfigError

# RFC 3986 section 3.3: what a path may hold besides percent-escapes.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ASCII_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
MAX_HOST_LENGTH = 253  # RFC 1035 section 2.3.4, without the final dot


def normalize_base_url(url: str, where: str = "base_url") -> str:
    """Check that ``url`` is an absolute http(s) folder URL; its ASCII form, ending in a slash.

    ``where`` names the setting in messages (``base_url``, ``--base-url``).

    Raises:
        ConfigError: the URL is relative, of another scheme, holds a space or a
            control character, a query or fragment, user credentials, an empty
            or malformed host, or a port outside 1 to 65535.
    """
    _reject_characters(url, where)
    try:
        parts = urlsplit(url)
    except ValueError as e:  # unbalanced [ ] around an IPv6 address
        raise ConfigError(f"{where} is not a valid URL ({e}): {url!r}") from e
    if parts.scheme.lower() not in ("http", "https") or not url[len(parts.scheme) :].startswith(
        "://"
    ):
        raise ConfigError(
            f"{where} must be an absolute http(s) URL, starting with http:// or https://, "
            f"got {url!r}"
        )
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigError(f"{where} must be a folder URL, without ?query or #fragment: {url!r}")
    if "@" in parts.netloc:
        raise ConfigError(
            f"{where} must not hold a user name or password (everyone reads the feeds): {url!r}"
        )
    host, port = _split_netloc(parts.netloc, url, where)
    path = _encode_path(parts.path or "/")
    normalized = f"{parts.scheme.lower()}://{_ascii_host(host, url, where)}{port}{path}"
    return normalized if normalized.endswith("/") else normalized + "/"


def _reject_characters(url: str, where: str) -> None:
    for index, char in enumerate(url):
        if unicodedata.category(char) == "Cs":  # undecodable bytes on the command line
            raise ConfigError(f"{where} is not valid UTF-8 text: {url!r} (position {index + 1})")
        if char.isspace() or unicodedata.category(char) == "Cc":
            kind = "a space" if char == " " else f"the character U+{ord(char):04X}"
            hint = " (write a space in a path as %20)" if char == " " else ""
            raise ConfigError(
                f"{where} must be a URL without spaces or control characters; {url!r} holds "
                f"{kind} at position {index + 1}{hint}"
            )


def _split_netloc(netloc: str, url: str, where: str) -> tuple[str, str]:
    """The host and the ``:port`` suffix (or ``""``) of a URL's authority."""
    if netloc.startswith("["):  # an IPv6 literal, RFC 3986 section 3.2.2
        end = netloc.find("]")
        host, rest = (netloc[: end + 1], netloc[end + 1 :]) if end > 0 else (netloc, "")
    else:
        host, colon, port_text = netloc.partition(":")
        rest = colon + port_text
    if not host:
        raise ConfigError(f"{where} must name a host, as in https://example.org/feeds/: {url!r}")
    if not rest:
        return host, ""
    digits = rest[1:]
    if not rest.startswith(":") or not digits.isascii() or not digits.isdigit():
        raise ConfigError(f"{where} has a bad port (a number from 1 to 65535 is): {url!r}")
    if not 1 <= int(digits) <= 65535:
        raise ConfigError(f"{where} has a bad port: {int(digits)} is not from 1 to 65535: {url!r}")
    return host, ":" + digits


def _ascii_host(host: str, url: str, where: str) -> str:
    """The host as it goes on the wire: IP literals checked, names in IDNA form."""
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1] if host.endswith("]") else "x")
        except ValueError:
            raise ConfigError(f"{where} has a malformed IPv6 address {host!r}: {url!r}") from None
        return host
    if host.isascii():
        labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
        if len(host) > MAX_HOST_LENGTH + 1 or not all(_ASCII_LABEL.fullmatch(x) for x in labels):
            raise ConfigError(
                f"{where} has a malformed host name {host!r} (letters, digits and hyphens, "
                f"in dot-separated parts of up to 63): {url!r}"
            )
        return host
    import idna  # only for internationalized names: a cron run seldom needs it

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as e:
        raise ConfigError(
            f"{where} has a host name that cannot be written in ASCII (IDNA): {host!r}: {e}"
        ) from e


def _encode_path(path: str) -> str:
    """Percent-encode what a URL path may not hold; keep valid escapes (``%20``) as they are."""
    return _STRAY_PERCENT.sub("%25", quote(path, safe=_PATH_SAFE + "%"))
