"""A real HTTP/1.1 server on 127.0.0.1 with one endpoint per case a link checker meets.

It counts connections, every request (per method and path, per Host) and the
most requests it ever had in flight, overall and per Host. A request stops
counting as in flight just *before* its response is sent, so the client can
never have fewer requests open than the server counts.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from feedpub.links.safenet import Resolver


class LinkServer:
    """Endpoints (any path may carry a query string, which is ignored except where noted):

    /ok 200 · /moved 301 → /ok · /loop/a ⇄ /loop/b 302 · /missing 404 · /gone 410 ·
    /flaky 500 once, then 200 · /broken 500 · /busy 429 with Retry-After: 1 once, then 200 ·
    /forbidden 403 · /no-head HEAD 405, GET 200 · /teapot 418 · /slow answers after 5 s ·
    /reset resets the connection · /delay?ms=N 200 after N ms · /to?url=U 302 → U ·
    /stall/N?after=S 503 with Retry-After: S twice (per query), then 302 → /stall/N+1
    (200 at N = 11)
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: Counter[tuple[str, str]] = Counter()  # (method, path)
        self.by_path: Counter[str] = Counter()
        self.by_host: Counter[str] = Counter()
        self.by_target: Counter[str] = Counter()  # path and query: /stall counts per chain
        self.user_agents: set[str] = set()
        self.connections = 0
        self.in_flight: Counter[str] = Counter()  # per Host, and "*" for all
        self.max_in_flight: Counter[str] = Counter()
        self.closing = threading.Event()
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def requests(self) -> int:
        with self.lock:
            return sum(self.hits.values())

    def __enter__(self) -> LinkServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def started(self, method: str, path: str, host: str, user_agent: str) -> int:
        """Count a request in; returns how many times its path was asked before (any method)."""
        with self.lock:
            before = self.by_path[path]
            self.hits[method, path] += 1
            self.by_path[path] += 1
            self.by_host[host] += 1
            self.user_agents.add(user_agent)
            for key in (host, "*"):
                self.in_flight[key] += 1
                self.max_in_flight[key] = max(self.max_in_flight[key], self.in_flight[key])
            return before

    def finished(self, host: str) -> None:
        with self.lock:
            for key in (host, "*"):
                self.in_flight[key] -= 1


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections when many arrive at once

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and left is part of the tests


def _handler(server: LinkServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def setup(self) -> None:
            super().setup()
            with server.lock:
                server.connections += 1

        def do_HEAD(self) -> None:
            self._answer()

        def do_GET(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

        def _answer(self) -> None:
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            host = (self.headers.get("Host") or "").rpartition(":")[0]
            before = server.started(self.command, path, host, self.headers.get("User-Agent") or "")
            status, headers = 200, {}
            if path == "/moved":
                status, headers = 301, {"Location": "/ok"}
            elif path in ("/loop/a", "/loop/b"):
                status, headers = 302, {"Location": "/loop/b" if path == "/loop/a" else "/loop/a"}
            elif path == "/missing":
                status = 404
            elif path == "/gone":
                status = 410
            elif path == "/flaky":
                status = 500 if before == 0 else 200
            elif path == "/broken":
                status = 500
            elif path == "/busy" and before == 0:
                status, headers = 429, {"Retry-After": "1"}
            elif path == "/forbidden":
                status = 403
            elif path == "/no-head" and self.command == "HEAD":
                status = 405
            elif path == "/teapot":
                status = 418
            elif path == "/slow":
                server.closing.wait(5)
            elif path == "/delay":
                time.sleep(int(query["ms"][0]) / 1000)
            elif path.startswith("/stall/"):
                hop = int(path.rpartition("/")[2])
                with server.lock:
                    server.by_target[self.path] += 1
                    asked = server.by_target[self.path]
                if asked <= 2:
                    status, headers = 503, {"Retry-After": query["after"][0]}
                elif hop < 11:
                    status, headers = 302, {"Location": f"/stall/{hop + 1}?{parts.query}"}
            elif path == "/to":
                status, headers = 302, {"Location": query["url"][0]}
            elif path == "/reset":
                server.finished(host)
                # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            elif path not in ("/ok", "/busy", "/no-head") and not path.startswith("/stall/"):
                status = 404
            server.finished(host)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            body = b"" if self.command == "HEAD" else b"hello\n"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def fake_resolver(calls: list[str] | None = None) -> Resolver:
    """Every ``*.test`` name is 127.0.0.1, except ``missing.test``, which does not exist.

    Tests never ask the system's resolver about a name: no packet leaves the machine.
    """

    async def resolve(host: str, port: int) -> tuple[str, ...]:
        if calls is not None:
            calls.append(host)
        if host.endswith(".test") and host != "missing.test":
            return ("127.0.0.1",)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return resolve
