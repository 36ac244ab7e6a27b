"""A preview server for the output folder: ``feedpub serve``.

It serves what a careful production server would (docs/serve.md), so feeds
can be tried in a browser and a feed reader before they are published:

- the media type of each file: ``application/rss+xml``, ``application/atom+xml``,
  ``application/feed+json``, ``text/x-opml``, ``text/xsl``, HTML with a charset;
- a strong ``ETag`` (a hash of the bytes, distinct for the gzip variant, RFC
  9110 8.8.3) and ``Last-Modified``, with ``304 Not Modified`` answers to
  ``If-None-Match`` and ``If-Modified-Since`` (RFC 9110 13.1);
- ``Cache-Control: no-cache``: clients may store files but must revalidate,
  which costs a 304 and keeps a rebuilt preview current;
- gzip when ``Accept-Encoding`` allows it, with ``Vary: Accept-Encoding``,
  compressed once per file version;
- for a browser opening ``rss.xml`` or ``atom.xml`` (it asks for HTML and names
  no feed type), ``application/xml`` instead: browsers show the registered feed
  types as plain text (Chromium) or offer a download (Firefox), and apply the
  feed's XSLT stylesheet only to an XML type. Same bytes, ``Vary: Accept``, and
  an ETag of its own;
- nothing outside the folder: ``..`` segments (plain or percent-encoded) are
  refused, hidden files (the manifest, temporary files) are not served, and a
  symlink that resolves outside the folder is answered like a missing file.

The output folder is mounted at the path of the site's base URL (``/feeds/``
for ``https://example.org/feeds/``), so root-relative links such as the feeds'
stylesheet resolve as they will in production; ``/`` redirects there. The
base URL itself, wherever a page, feed or stylesheet spells it out, is replaced
with the address the client used, so every link stays on the preview.

One asyncio event loop serves every connection: idle and slow clients cost a
buffer, not a thread, so a few hundred of them cannot starve the others. Each
connection must send a complete request head within ``idle_timeout`` seconds
(of connecting, or of its last response); past ``max_connections`` the longest
idle one is closed to make room. The standard library's ``asyncio`` streams do
all this; a server framework would add a dependency for no more than that.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from . import __version__
from .errors import ServeError
from .servefiles import (
    BROWSER_FEED_TYPE,
    STYLED,
    FileCache,
    accepts_gzip,
    compressible,
    etag_matches,
    locate,
    wants_page,
)

DEFAULT_HOST = "127.0.0.1"  # the CLI's defaults too (kept in cli.py, which imports this lazily)
DEFAULT_PORT = 8000
CACHE_CONTROL = "no-cache"
BACKLOG = 1024  # connections the kernel queues before accept (Linux caps it at somaxconn)
MAX_TARGET = 8192  # bytes of request line; longer is 414 (RFC 9112 3 suggests at least 8000)
MAX_HEAD = 32768  # bytes of request line and headers together; more is 431
MAX_HEADERS = 100
IDLE_TIMEOUT = 5.0
SEND_TIMEOUT = 30.0
MAX_CONNECTIONS = 512
_SERVER = f"feedpub/{__version__}"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")


class _BadRequest(Exception):
    """A request that cannot be parsed; carries the status to answer it with."""

    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


def escape_for_log(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN``, so a request cannot drive a terminal."""
    return "".join(c if c.isprintable() and c != "\\" else f"\\x{ord(c):02x}" for c in text)


class PreviewServer:
    """An HTTP/1.1 server for one output folder, on one asyncio event loop."""

    def __init__(
        self,
        root: Path,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        prefix: str = "/",
        base_url: str | None = None,
        log: Callable[[str], None] | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        """Bind ``host:port`` (port 0: any free port) to serve ``root`` at ``prefix``.

        With ``base_url``, its path is the prefix and its text is rewritten to
        the preview's address in every page, feed and stylesheet served.

        Raises:
            ServeError: ``root`` is not a folder, or the address cannot be bound.
        """
        if not root.is_dir():
            raise ServeError(
                f"output folder {root} does not exist: run `feedpub build` first, "
                "or `feedpub serve --watch`"
            )
        if base_url is not None:
            prefix = unquote(urlsplit(base_url).path)  # request paths are matched decoded
        self.root = str(root.resolve())
        self.prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        self.log = log
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self._files = FileCache(base_url)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._socket = socket.create_server((host, port), family=family, backlog=BACKLOG)
        except (OSError, OverflowError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise ServeError(f"cannot listen on {host}:{port}: {reason}") from e
        self._socket.setblocking(False)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._running = False
        self._shutdown_requested = False
        self._stopped = threading.Event()
        self._connections: dict[asyncio.StreamWriter, bool] = {}  # writer → idle

    @property
    def url(self) -> str:
        """The address of the output folder on this server."""
        host, port = self._socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}{quote(self.prefix)}"

    def serve_forever(self) -> None:
        """Serve until ``shutdown`` is called (from another thread) or Ctrl-C."""
        self._running = True
        try:
            asyncio.run(self._serve())
        except asyncio.CancelledError:
            # Ctrl-C just as the loop starts: asyncio cancels the task before its first
            # step and lets that out instead of a KeyboardInterrupt. Nothing else cancels it.
            raise KeyboardInterrupt from None
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` running in another thread, and wait for it."""
        self._shutdown_requested = True  # seen by _serve if it has not started its loop yet
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        if self._running:
            self._stopped.wait()

    def server_close(self) -> None:
        """Release the listening socket."""
        self._socket.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if self._shutdown_requested:
            return
        server = await asyncio.start_server(
            self._connection, sock=self._socket, backlog=BACKLOG, limit=MAX_HEAD
        )
        try:
            await self._stop.wait()
        finally:
            server.close()
            for writer in list(self._connections):
                writer.close()

    def _make_room(self) -> bool:
        """Close the longest idle connection if the server is full; False if none is idle."""
        if len(self._connections) < self.max_connections:
            return True
        for writer, idle in self._connections.items():
            if idle:
                del self._connections[writer]
                writer.close()
                return True
        return False

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle delay
        peer = writer.get_extra_info("peername")
        client = str(peer[0]) if isinstance(peer, tuple) else "-"
        if not self._make_room():
            await self._send_error(writer, client, "-", HTTPStatus.SERVICE_UNAVAILABLE)
            writer.close()
            return
        self._connections[writer] = True
        try:
            while await self._exchange(reader, writer, client):
                self._connections.pop(writer, None)
                self._connections[writer] = True  # idle again, and the newest
        except (ConnectionError, TimeoutError):
            pass
        finally:
            self._connections.pop(writer, None)
            writer.close()

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str
    ) -> bool:
        """Read one request and answer it; True if the connection stays open for another."""
        try:
            head = await asyncio.wait_for(_read_head(reader), self.idle_timeout)
        except (asyncio.IncompleteReadError, TimeoutError):
            return False  # the client closed or went quiet: close without a word (RFC 9112 9.8)
        except _BadRequest as e:
            await self._send_error(writer, client, "-", e.status)
            return False
        self._connections[writer] = False
        request_line, headers = head
        method, target, version = request_line
        line = f"{method} {target} {version}"
        connection = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        if version == "HTTP/1.0":
            keep_alive = "keep-alive" in connection
        else:
            keep_alive = "close" not in connection
        if "transfer-encoding" in headers or headers.get("content-length", "0") != "0":
            keep_alive = False  # a body we do not read: the connection cannot be reused
        if method not in ("GET", "HEAD"):
            await self._send_error(writer, client, line, HTTPStatus.NOT_IMPLEMENTED)
            return False
        status, response_headers, body = self._respond(target, headers)
        if version == "HTTP/1.0" and keep_alive:
            response_headers["Connection"] = "keep-alive"
        elif not keep_alive:
            response_headers["Connection"] = "close"
        await self._send(writer, status, response_headers, body if method == "GET" else b"")
        self._log(client, line, status, len(body))
        return keep_alive

    def _respond(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        located = locate(self.root, self.prefix, target)
        if located.location is not None:
            return located.status, {"Location": located.location, "Content-Length": "0"}, b""
        if located.file is None:
            return _error(located.status)
        try:
            version = self._files.open(located.file)
        except OSError:
            return _error(HTTPStatus.NOT_FOUND)
        media_type = version.media_type
        # Each representation gets its own strong ETag (RFC 9110 8.8.3): same bytes
        # with another type or another encoding is another representation.
        vary = []
        variant = ""
        if os.path.basename(located.file) in STYLED:
            vary.append("Accept")
            if wants_page(headers.get("accept")):
                media_type = BROWSER_FEED_TYPE
                variant = "-xml"
        use_gzip = False
        if compressible(media_type):
            vary.append("Accept-Encoding")
            use_gzip = accepts_gzip(headers.get("accept-encoding"))
        body = self._files.body(version, self._origin(headers), use_gzip)
        etag = body.etag[:-1] + variant + '"'
        mtime = version.mtime_ns // 1_000_000_000
        response = {
            "ETag": etag,
            "Last-Modified": formatdate(mtime, usegmt=True),
            "Cache-Control": CACHE_CONTROL,
        }
        if vary:
            response["Vary"] = ", ".join(vary)
        if _not_modified(headers, etag, mtime):
            return HTTPStatus.NOT_MODIFIED, response, b""
        if use_gzip:
            response["Content-Encoding"] = "gzip"
        response |= {
            "Content-Type": media_type,
            "Content-Length": str(len(body.data)),
            "X-Content-Type-Options": "nosniff",
        }
        return HTTPStatus.OK, response, body.data

    def _origin(self, headers: dict[str, str]) -> str:
        """Where the client reached us: its Host header when well formed, else our address."""
        host = headers.get("host", "")
        if host and len(host) <= 255 and set(host) <= _HOST_CHARS:
            return "http://" + host
        return self.url.removesuffix(quote(self.prefix))

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        phrase = HTTPStatus(status).phrase
        lines = [f"HTTP/1.1 {status} {phrase}", f"Server: {_SERVER}"]
        lines.append(f"Date: {formatdate(usegmt=True)}")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)

    async def _send_error(
        self, writer: asyncio.StreamWriter, client: str, line: str, status: HTTPStatus
    ) -> None:
        code, headers, body = _error(status)
        headers["Connection"] = "close"
        try:
            await self._send(writer, code, headers, body)
        except (ConnectionError, TimeoutError):
            return
        self._log(client, line, code, len(body))

    def _log(self, client: str, line: str, status: int, size: int) -> None:
        if self.log is not None:
            self.log(f'{client} "{escape_for_log(line)}" {status} {size}')


def _error(status: HTTPStatus) -> tuple[int, dict[str, str], bytes]:
    body = f"{status.value} {status.phrase}\n".encode()
    headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}
    return status.value, headers, body


def _not_modified(headers: dict[str, str], etag: str, mtime: int) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only counts without it.
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return mtime <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, IndexError):
        return False  # an unparsable date is ignored (RFC 9110 13.1.3)


RequestLine = tuple[str, str, str]


async def _read_head(reader: asyncio.StreamReader) -> tuple[RequestLine, dict[str, str]]:
    """The request line and the headers (names lowercased) of the next request.

    Raises:
        asyncio.IncompleteReadError: the client closed the connection.
        _BadRequest: malformed (400), a target too long (414), headers too large (431),
            an HTTP version other than 1.0 and 1.1 (505).
    """
    try:
        raw = await reader.readuntil(b"\n")
        while raw in (b"\r\n", b"\n"):  # RFC 9112 2.2: ignore empty lines before a request
            raw = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as e:
        raise _BadRequest(HTTPStatus.REQUEST_URI_TOO_LONG) from e
    if len(raw) > MAX_TARGET:
        raise _BadRequest(HTTPStatus.REQUEST_URI_TOO_LONG)
    parts = raw.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise _BadRequest(HTTPStatus.BAD_REQUEST)
    method, target, version = parts
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise _BadRequest(
            HTTPStatus.BAD_REQUEST
            if not version.startswith("HTTP/")
            else HTTPStatus.HTTP_VERSION_NOT_SUPPORTED
        )
    headers: dict[str, str] = {}
    size = len(raw)
    for _ in range(MAX_HEADERS + 1):
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError as e:
            raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE) from e
        size += len(line)
        if size > MAX_HEAD:
            raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            return (method, target, version), headers
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            raise _BadRequest(HTTPStatus.BAD_REQUEST)  # RFC 9112 5.1: no space before ":"
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)  # more than MAX_HEADERS
