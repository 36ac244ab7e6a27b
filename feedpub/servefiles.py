"""What the preview server sends: request paths to files, and each file's representations.

Pure rules (``locate``, ``content_type``, ``accepts_gzip``, ``wants_page``,
``etag_matches``) plus ``FileCache``, which reads a file once per version (path,
mtime, size) and keeps what each request variant needs: the bytes with the
site's base URL rewritten to the preview's address, their strong ETag, and
their gzip form, each computed once.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from .render import RENDERERS

_BY_NAME = {r.filename: r.media_type for r in RENDERERS}
_BY_SUFFIX = {
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".xml": "application/xml",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
}
# Feeds that may carry the <?xml-stylesheet?> instruction, and their type for browsers.
STYLED = frozenset({"rss.xml", "atom.xml"})
BROWSER_FEED_TYPE = "application/xml; charset=utf-8"
_FEED_TYPES = ("application/rss+xml", "application/atom+xml")
_COMPRESSIBLE = ("text/", "application/xml", "application/json", "+xml", "+json")
# The documents that hold the site's own absolute URLs: pages, feeds, OPML, the stylesheet.
_REWRITTEN = ("text/html", "text/xsl", "text/x-opml", "application/xml", "+xml", "json")
_ATOM_LINK = "{http://www.w3.org/2005/Atom}link"


def content_type(name: str) -> str:
    """The ``Content-Type`` for a file of the output folder, by its name."""
    media_type = _BY_NAME.get(name) or _BY_SUFFIX.get(os.path.splitext(name)[1].lower())
    if media_type is None:
        return "application/octet-stream"
    # feedpub writes XML as UTF-8; RFC 7303 asks servers to say so. JSON has no charset.
    return media_type + "; charset=utf-8" if media_type.endswith("xml") else media_type


def _has(media_type: str, kinds: tuple[str, ...]) -> bool:
    base = media_type.split(";")[0]
    return any(base.startswith(k) if k.endswith("/") else k in base for k in kinds)


def _weights(header: str | None) -> dict[str, float]:
    """The members of an Accept-style header with their q-values (RFC 9110 12.4.2)."""
    weights: dict[str, float] = {}
    for item in (header or "").split(","):
        token, *params = (part.strip() for part in item.split(";"))
        if not token:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[token.lower()] = weight
    return weights


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (RFC 9110 12.5.3, with q-values)."""
    weights = _weights(accept_encoding)
    for coding in ("gzip", "x-gzip"):
        if coding in weights:
            return weights[coding] > 0
    return weights.get("*", 0.0) > 0


def wants_page(accept: str | None) -> bool:
    """Whether a request for a feed comes from a browser that will show it as a page.

    Browsers navigating ask for ``text/html`` first; feed readers name the feed
    types or take anything (``*/*``).
    """
    weights = _weights(accept)
    if any(weights.get(t, 0.0) > 0 for t in _FEED_TYPES):
        return False
    return weights.get("text/html", 0.0) > 0


def etag_matches(if_none_match: str, etag: str) -> bool:
    """``If-None-Match`` uses the weak comparison (RFC 9110 13.1.2): ``W/`` is ignored."""
    if if_none_match.strip() == "*":
        return True
    tags = (t.strip() for t in if_none_match.split(","))
    return etag in (t.removeprefix("W/") for t in tags)


@dataclass(frozen=True, slots=True)
class Located:
    """Where a request path leads: a file to send, or a status (with a redirect target)."""

    status: HTTPStatus
    file: str | None = None
    location: str | None = None


def locate(root: str, prefix: str, target: str) -> Located:
    """Map a request target to a file below ``root`` mounted at ``prefix``, safely.

    ``root`` must be resolved (absolute, no symlinks); ``prefix`` starts and ends
    with "/". Every impossible path gets a status, never an exception: a name too
    long for the file system or a symlink loop is a missing file (404).
    """
    # Origin-form ("/a/b?q") is the usual target; absolute-form ("http://h/a/b") is allowed
    # too (RFC 9112 3.2.2). A target starting "//" is a path, not a network location.
    raw_path = target.split("?", 1)[0].split("#", 1)[0]
    if not raw_path.startswith("/"):
        raw_path = urlsplit(target).path
        if not raw_path.startswith("/"):
            return Located(HTTPStatus.BAD_REQUEST)
    # Split before decoding: "%2F" inside a segment is never a separator.
    segments = [unquote(s, errors="replace") for s in raw_path[1:].split("/")]
    for s in segments:
        if s in (".", "..") or any(c in s for c in "/\\\x00"):
            return Located(HTTPStatus.BAD_REQUEST)
    if "" in segments[:-1]:
        return Located(HTTPStatus.NOT_FOUND)  # "//": no such path, and never a redirect to one
    path = "/" + "/".join(segments)
    if path == "/" != prefix or path == prefix.rstrip("/"):
        return Located(HTTPStatus.FOUND, location=quote(prefix))
    if not path.startswith(prefix):
        return Located(HTTPStatus.NOT_FOUND)
    parts = path[len(prefix) :].split("/")
    wants_folder = parts[-1] == ""
    parts = [p for p in parts if p]
    if any(p.startswith(".") for p in parts):
        return Located(HTTPStatus.NOT_FOUND)  # the manifest, temporary files, .git
    try:
        return _resolve(root, parts, wants_folder, path)
    except OSError:  # ENAMETOOLONG, ELOOP
        return Located(HTTPStatus.NOT_FOUND)


def _resolve(root: str, parts: list[str], wants_folder: bool, path: str) -> Located:
    real = os.path.realpath(os.path.join(root, *parts))
    if real != root and not real.startswith(root + os.sep):
        return Located(HTTPStatus.NOT_FOUND)  # a symlink leading out of the folder
    if os.path.isdir(real):
        if not wants_folder:
            return Located(HTTPStatus.MOVED_PERMANENTLY, location=quote(path) + "/")
        real = os.path.realpath(os.path.join(real, "index.html"))
        if not real.startswith(root + os.sep):
            return Located(HTTPStatus.NOT_FOUND)
    elif wants_folder:
        return Located(HTTPStatus.NOT_FOUND)  # "rss.xml/": a file is not a folder
    os.stat(real)  # raises for a loop or an over-long name, which os.path.isfile would hide
    if not os.path.isfile(real):
        return Located(HTTPStatus.NOT_FOUND)
    return Located(HTTPStatus.OK, file=real)


def recorded_base_url(out: Path) -> str | None:
    """The base URL the folder was built for, read back from its own feeds.

    The site's ``feed.json`` names its ``feed_url`` and ``atom.xml`` its
    ``rel="self"`` link, both ``base_url`` + the file name; None when neither
    is there or readable.
    """
    try:
        document = json.loads((out / "feed.json").read_bytes())
        url = document.get("feed_url") if isinstance(document, dict) else None
        if isinstance(url, str) and url.endswith("/feed.json"):
            return url.removesuffix("feed.json")
    except (OSError, ValueError):
        pass
    try:
        for _, element in ET.iterparse(out / "atom.xml"):
            href = element.get("href", "")
            if element.tag == _ATOM_LINK and element.get("rel") == "self":
                return href.removesuffix("atom.xml") if href.endswith("/atom.xml") else None
    except (OSError, ET.ParseError):
        pass
    return None


@dataclass(frozen=True, slots=True)
class Body:
    """One representation of a file version: its bytes and their strong ETag."""

    data: bytes
    etag: str


@dataclass(slots=True)
class FileVersion:
    """A file as read at one (mtime, size), with the bodies computed from it so far."""

    mtime_ns: int
    size: int
    data: bytes
    media_type: str
    bodies: dict[tuple[str, bool], Body] = field(default_factory=dict)


class FileCache:
    """File contents by path, valid while the file's mtime and size stay the same.

    ``base_url`` (the site's public address) is replaced, in text documents,
    with the origin the request came to (``http://127.0.0.1:8000``), as
    ``hugo server`` does; the files themselves are never touched. Each version
    keeps at most ``_MAX_ORIGINS`` origins' bodies, and the cache holds at most
    ``max_bytes`` of file contents (least recently used out first), so a client
    inventing Host headers or a huge folder cannot grow it without bound.
    """

    _MAX_ORIGINS = 8

    def __init__(self, base_url: str | None, max_bytes: int = 64 * 2**20) -> None:
        self._base_url = base_url
        self._path = urlsplit(base_url).path if base_url else "/"
        self._max_bytes = max_bytes
        self._bytes = 0
        self._files: OrderedDict[str, FileVersion] = OrderedDict()

    def open(self, path: str) -> FileVersion:
        """The current version of ``path``, read now if it changed since last time.

        Raises:
            OSError: the file cannot be read (gone, unreadable).
        """
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            cached = self._files.get(path)
            if cached is not None and (cached.mtime_ns, cached.size) == (
                info.st_mtime_ns,
                info.st_size,
            ):
                self._files.move_to_end(path)
                return cached
            data = f.read()
        version = FileVersion(
            info.st_mtime_ns, info.st_size, data, content_type(os.path.basename(path))
        )
        self._forget(path)
        if len(data) <= self._max_bytes // 4:
            self._files[path] = version
            self._bytes += len(data)
            while self._bytes > self._max_bytes:
                self._forget(next(iter(self._files)))
        return version

    def _forget(self, path: str) -> None:
        old = self._files.pop(path, None)
        if old is not None:
            self._bytes -= len(old.data)

    def body(self, version: FileVersion, origin: str, compress: bool) -> Body:
        """The bytes to send for ``version`` to a client that reached us at ``origin``."""
        rewrite = self._base_url is not None and _has(version.media_type, _REWRITTEN)
        key = (origin if rewrite else "", compress)
        found = version.bodies.get(key)
        if found is not None:
            return found
        if compress:
            plain = self.body(version, origin, False)
            # mtime=0: the same bytes each time, so the gzip variant's ETag is strong.
            data = gzip.compress(plain.data, compresslevel=6, mtime=0)
            made = Body(data, plain.etag[:-1] + '-gzip"')
        else:
            data = version.data
            if rewrite and self._base_url is not None:
                data = _rewrite(data, self._base_url, origin + self._path)
            made = Body(data, f'"{hashlib.sha256(data).hexdigest()[:32]}"')
        if len(version.bodies) >= 2 * self._MAX_ORIGINS:
            version.bodies.clear()
        version.bodies[key] = made
        return made


def compressible(media_type: str) -> bool:
    """Whether gzip helps ``media_type`` (text, XML and JSON; not images)."""
    return _has(media_type, _COMPRESSIBLE)


def _rewrite(data: bytes, site: str, preview: str) -> bytes:
    """``data`` with the ``site`` URL replaced by ``preview``, as written and as shown.

    Pages show feed addresses with a ``<wbr>`` after each "/" so they wrap
    (render/pages.py); that spelling is replaced too, so a copied address works.
    """
    for old, new in ((site, preview), (_breakable(site), _breakable(preview))):
        data = data.replace(old.encode(), new.encode())
    return data


def _breakable(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return html.escape(scheme + sep) + "/<wbr>".join(html.escape(p) for p in rest.split("/"))
