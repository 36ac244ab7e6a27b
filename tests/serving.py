"""Helpers for tests that talk HTTP to the preview server."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from feedpub.serve import PreviewServer


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


def fetch(base: str, target: str, headers: Mapping[str, str] | None = None) -> Response:
    """Send ``target`` exactly as given (no normalisation of ``..``), like a hostile client."""
    parts = urlsplit(base)
    assert parts.hostname is not None and parts.port is not None
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", target, headers=dict(headers or {}))
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        conn.close()


@dataclass
class Served:
    server: PreviewServer
    url: str
    log: list[str] = field(default_factory=list)


@contextmanager
def serve_in_thread(
    out: Path,
    prefix: str = "/",
    *,
    base_url: str | None = None,
    idle_timeout: float = 5.0,
    max_connections: int = 512,
) -> Iterator[Served]:
    """The preview server on a free loopback port, in a thread, for the length of a block."""
    log: list[str] = []
    server = PreviewServer(
        out,
        "127.0.0.1",
        0,
        prefix=prefix,
        base_url=base_url,
        log=log.append,
        idle_timeout=idle_timeout,
        max_connections=max_connections,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(server, server.url, log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
