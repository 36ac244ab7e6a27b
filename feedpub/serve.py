"""A preview server for the output folder: ``feedpub serve``.

Built on the standard library's ``http.server``, it serves what a careful
production server would (README, "Deployment"), so feeds can be tried in a
browser and a feed reader before they are published:

- the media type of each file: ``application/rss+xml``, ``application/atom+xml``,
  ``application/feed+json``, ``text/x-opml``, ``text/xsl``, HTML with a charset;
- a strong ``ETag`` (a hash of the bytes, distinct for the gzip variant, RFC
  9110 8.8.3) and ``Last-Modified``, with ``304 Not Modified`` answers to
  ``If-None-Match`` and ``If-Modified-Since`` (RFC 9110 13.1);
- ``Cache-Control: no-cache``: clients may store files but must revalidate,
  which costs a 304 and keeps a rebuilt preview current;
- gzip when ``Accept-Encoding`` allows it, with ``Vary: Accept-Encoding``;
- for a browser opening ``rss.xml`` or ``atom.xml`` (it asks for HTML and names
  no feed type), ``application/xml`` instead: browsers show the registered feed
  types as plain text (Chromium) or offer a download (Firefox), and apply the
  feed's XSLT stylesheet only to an XML type. Same bytes, ``Vary: Accept``, and
  an ETag of its own;
- nothing outside the folder: ``..`` segments (plain or percent-encoded) are
  refused, hidden files (the manifest, temporary files) are not served, and a
  symlink that resolves outside the folder is answered like a missing file.

The output folder is mounted at the path of ``base_url`` (``/feeds/`` for
``https://example.org/feeds/``), so root-relative links such as the feeds'
stylesheet resolve as they will in production; ``/`` redirects there.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from . import __version__
from .errors import ServeError
from .mediatypes import content_type

DEFAULT_HOST = "127.0.0.1"  # the CLI's defaults too (kept in cli.py, which imports this lazily)
DEFAULT_PORT = 8000
CACHE_CONTROL = "no-cache"

# Feeds that may carry the <?xml-stylesheet?> instruction, and their type for browsers.
_STYLED = frozenset({"rss.xml", "atom.xml"})
BROWSER_FEED_TYPE = "application/xml; charset=utf-8"
_FEED_TYPES = ("application/rss+xml", "application/atom+xml")
_COMPRESSIBLE = ("text/", "application/xml", "application/json", "+xml", "+json", "image/svg+xml")


def _compressible(media_type: str) -> bool:
    base = media_type.split(";")[0]
    return any(base.startswith(k) if k.endswith("/") else k in base for k in _COMPRESSIBLE)


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
    file: Path | None = None
    location: str | None = None


def locate(root: Path, prefix: str, target: str) -> Located:
    """Map a request target to a file below ``root`` mounted at ``prefix``, safely.

    ``root`` must be resolved (absolute, no symlinks); ``prefix`` starts and ends with "/".
    """
    # Origin-form ("/a/b?q") is the usual target; absolute-form ("http://h/a/b") is allowed
    # too (RFC 9112 3.2.2). A target starting "//" is a path, not a network location.
    raw_path = target.split("?", 1)[0].split("#", 1)[0]
    if not raw_path.startswith("/"):
        raw_path = urlsplit(target).path
    path = unquote(raw_path, errors="replace")
    if not path.startswith("/") or "\x00" in path or "\\" in path:
        return Located(HTTPStatus.BAD_REQUEST)
    segments = path.split("/")
    if any(s in (".", "..") for s in segments):
        return Located(HTTPStatus.BAD_REQUEST)
    if path in ("/", prefix.rstrip("/")) and path != prefix:
        return Located(HTTPStatus.FOUND, location=prefix)
    if not path.startswith(prefix):
        return Located(HTTPStatus.NOT_FOUND)
    parts = [s for s in path[len(prefix) :].split("/") if s]
    if any(p.startswith(".") for p in parts):
        return Located(HTTPStatus.NOT_FOUND)  # the manifest, temporary files, .git
    candidate = root.joinpath(*parts)
    real = candidate.resolve()
    if not real.is_relative_to(root):
        return Located(HTTPStatus.NOT_FOUND)  # a symlink leading out of the folder
    if real.is_dir():
        if not path.endswith("/"):
            return Located(HTTPStatus.MOVED_PERMANENTLY, location=quote(path) + "/")
        real = (real / "index.html").resolve()
        if not real.is_relative_to(root):
            return Located(HTTPStatus.NOT_FOUND)
    if not real.is_file():
        return Located(HTTPStatus.NOT_FOUND)
    return Located(HTTPStatus.OK, file=real)


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD for the files of the output folder; see the module docstring."""

    server: PreviewServer
    protocol_version = "HTTP/1.1"  # keep-alive, as feed readers expect

    def version_string(self) -> str:
        return f"feedpub/{__version__}"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")

    def _respond(self, *, send_body: bool) -> None:
        located = locate(self.server.root, self.server.prefix, self.path)
        if located.location is not None:
            self.send_response(located.status)
            self.send_header("Location", located.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if located.file is None:
            self.send_error(located.status)
            return
        try:
            with open(located.file, "rb") as f:
                mtime = os.fstat(f.fileno()).st_mtime
                data = f.read()
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        media_type = content_type(located.file)
        # Each representation gets its own strong ETag (RFC 9110 8.8.3): same bytes
        # with another type or another encoding is another representation.
        variant = ""
        vary = []
        if located.file.name in _STYLED:
            vary.append("Accept")
            if wants_page(self.headers.get("Accept")):
                media_type = BROWSER_FEED_TYPE
                variant += "-xml"
        compressible = _compressible(media_type)
        use_gzip = compressible and accepts_gzip(self.headers.get("Accept-Encoding"))
        if compressible:
            vary.append("Accept-Encoding")
        if use_gzip:
            variant += "-gzip"
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}{variant}"'
        headers = {
            "ETag": etag,
            "Last-Modified": formatdate(int(mtime), usegmt=True),
            "Cache-Control": CACHE_CONTROL,
        }
        if vary:
            headers["Vary"] = ", ".join(vary)
        if self._not_modified(etag, int(mtime)):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._send_headers(headers)
            return
        if use_gzip:
            data = gzip.compress(data, compresslevel=6, mtime=0)  # mtime=0: same bytes each time
            headers["Content-Encoding"] = "gzip"
        self.send_response(HTTPStatus.OK)
        headers |= {
            "Content-Type": media_type,
            "Content-Length": str(len(data)),
            "X-Content-Type-Options": "nosniff",
        }
        self._send_headers(headers)
        if send_body:
            self.wfile.write(data)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only counts without it.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag_matches(if_none_match, etag)
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return mtime <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False  # an unparsable date is ignored (RFC 9110 13.1.3)

    def _send_headers(self, headers: dict[str, str]) -> None:
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server for one output folder."""

    daemon_threads = True

    def __init__(
        self,
        root: Path,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        prefix: str = "/",
        log: Callable[[str], None] | None = None,
    ) -> None:
        """Bind ``host:port`` (port 0: any free port) to serve ``root`` at ``prefix``.

        Raises:
            ServeError: ``root`` is not a folder, or the address cannot be bound.
        """
        if not root.is_dir():
            raise ServeError(
                f"output folder {root} does not exist: run `feedpub build` first, "
                "or `feedpub serve --watch`"
            )
        self.root = root.resolve()
        self.prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        self.log = log
        if ":" in host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((host, port), PreviewHandler)
        except OSError as e:
            raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e

    @property
    def url(self) -> str:
        """The address of the output folder on this server."""
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}{self.prefix}"
