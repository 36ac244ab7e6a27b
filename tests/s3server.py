"""A real S3-compatible server for the deploy tests, and a front that can go down.

``S3Server`` runs moto's standalone server (``moto[server]`` from PyPI) as a
separate process on 127.0.0.1; boto3 speaks to it over HTTP like to any
S3-compatible store. Its buckets live in that process's memory.

``S3Front`` is an HTTP server on 127.0.0.1 that passes every request on to
the S3 server and records the uploads in order. Told to go down after N
uploads, it stops listening and drops the connections it holds, as a
stopped server would, while the bucket behind it stays readable for the test.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class S3Server:
    """moto's S3 server as a child process, stopped on exit."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> S3Server:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_PORT": str(self.port)},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # ready once it answers
            if self._process.poll() is not None:
                raise RuntimeError("the moto server exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the moto server did not start within 60 s")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(timeout=30)


class S3Front:
    """A pass-through HTTP server before ``upstream``; ``stop_after`` uploads, it goes down."""

    def __init__(self, upstream: str, stop_after: int | None = None) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.stop_after = stop_after
        self.uploads: list[str] = []  # object keys of the PUT requests passed on, in order
        self.down = threading.Event()
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                if front.down.is_set():
                    self.close_connection = True  # a stopped server answers nothing
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(*front._upstream, timeout=60)
                try:
                    upstream.request(self.command, self.path, body, dict(self.headers.items()))
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                if self.command == "HEAD":
                    self.send_header("Content-Length", answer.getheader("Content-Length") or "0")
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                if self.command == "PUT" and 200 <= answer.status < 300:
                    front._uploaded(unquote(urlsplit(self.path).path))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _uploaded(self, path: str) -> None:
        with self._lock:
            self.uploads.append(path)
            if self.stop_after is not None and len(self.uploads) >= self.stop_after:
                self.down.set()
                # Stop listening from another thread: shutdown() waits for serve_forever.
                threading.Thread(target=self._close, daemon=True).start()

    def _close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> S3Front:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self.down.is_set():
            self.down.set()
            self._close()
