"""The preview server's HTTP under hostile and heavy use: raw sockets against a real server."""

from __future__ import annotations

import asyncio
import gzip
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import pytest

from feedpub.serve import escape_for_log
from tests.serving import Served, fetch, serve_in_thread

SITE_URL = "https://example.org/news/feeds/"
PAGE = f'<html><link rel="alternate" href="{SITE_URL}rss.xml"><a href="{SITE_URL}">home</a>\n'


def write_folder(out: Path) -> None:
    (out / "topics" / "ai").mkdir(parents=True)
    (out / "index.html").write_text(PAGE)
    (out / "rss.xml").write_text(f"<rss><channel><link>{SITE_URL}</link></channel></rss>\n" * 50)
    (out / "topics" / "ai" / "index.html").write_text("<p>AI</p>")
    (out / "loop").symlink_to(out / "loop")
    (out / "topics" / "a").symlink_to(out / "topics" / "b")
    (out / "topics" / "b").symlink_to(out / "topics" / "a")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    out = tmp_path_factory.mktemp("http") / "feeds"
    out.mkdir()
    write_folder(out)
    with serve_in_thread(out, base_url=SITE_URL) as served:
        yield served


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def connect(url: str) -> socket.socket:
    return socket.create_connection(address(url), timeout=10)


def read_response(reader: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """One response from a connection's reader: status, headers (lowercased names) and body."""
    status_line = reader.readline().decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := reader.readline().decode("latin-1").rstrip("\r\n")) != "":
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes, bytes]:
    """Send ``request`` on a new connection; the response, and what follows until the close."""
    with connect(url) as sock:
        sock.sendall(request)
        reader = sock.makefile("rb")
        status, headers, body = read_response(reader)
        rest = reader.read()
    return status, headers, body, rest


def get(target: str, version: str = "HTTP/1.1", extra: str = "") -> bytes:
    return f"GET {target} {version}\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode("latin-1")


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/news/feeds/" + "a" * 256, 404),  # ENAMETOOLONG
        ("/news/feeds/topics/" + "b" * 300 + "/index.html", 404),
        ("/news/feeds/loop", 404),  # a symlink to itself: ELOOP
        ("/news/feeds/loop/", 404),
        ("/news/feeds/topics/a", 404),  # a loop of two symlinks
        ("/news/feeds/rss.xml/", 404),  # a file is not a folder
        ("/news/feeds/rss.xml/x", 404),
        ("/%2Ftopics", 400),  # never a redirect to //topics/
        ("/news/feeds/%2Ftopics", 400),
        ("//topics", 404),
        ("/news/feeds//topics/", 404),
        ("/news/feeds/" + "x" * 9000, 414),
        ("/news/feeds/%zz", 404),
        ("/news/feeds/%ff%fe", 404),
        ("*", 400),
    ],
)
def test_impossible_paths_get_a_status_not_a_dropped_connection(
    server: Served, target: str, status: int
) -> None:
    answered, headers, _, _ = exchange(server.url, get(target, extra="Connection: close\r\n"))
    assert answered == status
    assert "location" not in headers


def test_a_folder_redirect_stays_on_this_host(server: Served) -> None:
    status, headers, _, _ = exchange(server.url, get("/news/feeds/topics/ai", "HTTP/1.0"))
    assert status == 301 and headers["location"] == "/news/feeds/topics/ai/"
    status, headers, _, _ = exchange(server.url, get("/", "HTTP/1.0"))
    assert status == 302 and headers["location"] == "/news/feeds/"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /news/feeds/ HTTP/2.0\r\n\r\n", 505),
        (b"GET /news/feeds/ FTP/1.0\r\n\r\n", 400),
        (b"GET /news/feeds/ HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
        (b"GET /news/feeds/ HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"GET /news/feeds/ HTTP/1.1\r\n" + b"X-Big: " + b"y" * 40000 + b"\r\n\r\n", 431),
        (b"GET /news/feeds/ HTTP/1.1\r\n" + b"X-Many: y\r\n" * 200 + b"\r\n", 431),
        (b"DELETE /news/feeds/rss.xml HTTP/1.1\r\n\r\n", 501),
    ],
)
def test_malformed_requests_are_answered_then_closed(
    server: Served, request_bytes: bytes, status: int
) -> None:
    answered, headers, _, rest = exchange(server.url, request_bytes)
    assert answered == status and headers["connection"] == "close" and rest == b""


def test_control_characters_are_escaped_in_the_log(server: Served) -> None:
    status, _, _, _ = exchange(server.url, get("/news/feeds/\x1b[2J\x07x", "HTTP/1.0"))
    assert status == 404
    [line] = [entry for entry in server.log if "[2J" in entry]
    assert "\x1b" not in line and "\x07" not in line
    assert "\\x1b[2J\\x07x" in line
    assert escape_for_log("a\r\nb\x9b\\") == "a\\x0d\\x0ab\\x9b\\x5c"


def test_http_1_0_closes_unless_asked_to_keep_alive(server: Served) -> None:
    status, headers, body, rest = exchange(server.url, get("/news/feeds/", "HTTP/1.0"))
    assert status == 200 and body.startswith(b"<html>") and rest == b""
    assert headers["connection"] == "close"
    with connect(server.url) as sock, sock.makefile("rb") as reader:
        for _ in range(3):
            sock.sendall(get("/news/feeds/", "HTTP/1.0", "Connection: Keep-Alive\r\n"))
            status, headers, body = read_response(reader)
            assert status == 200 and headers["connection"] == "keep-alive"
            assert body.startswith(b"<html>")


def test_http_1_1_keeps_the_connection_until_told_to_close(server: Served) -> None:
    with connect(server.url) as sock, sock.makefile("rb") as reader:
        # Two requests sent at once (pipelined) are answered in order.
        sock.sendall(get("/news/feeds/") + get("/news/feeds/rss.xml"))
        first = read_response(reader)
        second = read_response(reader)
        assert first[0] == second[0] == 200 and "connection" not in first[1]
        assert first[2].startswith(b"<html>") and second[2].startswith(b"<rss>")
        sock.sendall(get("/news/feeds/", extra="Connection: close\r\n"))
        status, headers, _ = read_response(reader)
        assert status == 200 and headers["connection"] == "close"
        assert reader.read() == b""


def test_a_request_with_a_body_is_answered_and_the_connection_closed(server: Served) -> None:
    request = b"GET /news/feeds/ HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
    status, headers, _, rest = exchange(server.url, request)
    assert status == 200 and headers["connection"] == "close" and rest == b""


def test_an_idle_connection_is_closed_after_the_timeout(tmp_path: Path) -> None:
    write_folder(tmp_path)
    with serve_in_thread(tmp_path, idle_timeout=0.2) as served:
        with connect(served.url) as sock, sock.makefile("rb") as reader:
            sock.sendall(get("/"))
            assert read_response(reader)[0] == 200
            assert reader.read() == b"", "closed once idle, without a response"
        with connect(served.url) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n")  # a head that never ends
            assert sock.recv(10) == b""


def test_a_full_server_closes_its_longest_idle_connection(tmp_path: Path) -> None:
    write_folder(tmp_path)
    with serve_in_thread(tmp_path, max_connections=5) as served:
        idle = [connect(served.url) for _ in range(5)]
        readers = [sock.makefile("rb") for sock in idle]
        for sock, reader in zip(idle, readers, strict=True):
            sock.sendall(get("/"))
            assert read_response(reader)[0] == 200
        assert fetch(served.url, "/").status == 200, "a new client is served"
        assert readers[0].read() == b"", "the longest idle connection made room"
        idle[-1].sendall(get("/"))
        assert read_response(readers[-1])[0] == 200, "the others stay open"
        for sock, reader in zip(idle, readers, strict=True):
            reader.close()
            sock.close()


def test_the_base_url_is_rewritten_to_the_address_the_client_used(server: Served) -> None:
    host, port = address(server.url)
    page = fetch(server.url, "/news/feeds/")
    assert SITE_URL.encode() not in page.body
    assert f'href="http://{host}:{port}/news/feeds/rss.xml"'.encode() in page.body
    named = fetch(server.url, "/news/feeds/", {"Host": f"localhost:{port}"})
    assert f'href="http://localhost:{port}/news/feeds/"'.encode() in named.body
    assert named.header("ETag") != page.header("ETag"), "another representation"
    hostile = fetch(server.url, "/news/feeds/", {"Host": '"><script>'})
    assert f"http://{host}:{port}/news/feeds/".encode() in hostile.body, "a bad Host is ignored"
    zipped = fetch(server.url, "/news/feeds/rss.xml", {"Accept-Encoding": "gzip"})
    assert gzip.decompress(zipped.body) == fetch(server.url, "/news/feeds/rss.xml").body
    assert SITE_URL.encode() in (Path(server.server.root) / "rss.xml").read_bytes(), "untouched"


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    write_folder(tmp_path)
    with serve_in_thread(tmp_path) as served:
        gz = {"Accept-Encoding": "gzip"}
        before, before_gz = fetch(served.url, "/rss.xml"), fetch(served.url, "/rss.xml", gz)
        new = tmp_path / ".rss.new"
        new.write_text("<rss>changed</rss>\n")
        os.utime(new, ns=(1, 1))  # an older mtime and another size: a new version all the same
        new.rename(tmp_path / "rss.xml")
        after, after_gz = fetch(served.url, "/rss.xml"), fetch(served.url, "/rss.xml", gz)
        assert after.body == b"<rss>changed</rss>\n" == gzip.decompress(after_gz.body)
        assert after.header("ETag") != before.header("ETag")
        assert after_gz.header("ETag") != before_gz.header("ETag")
        assert fetch(served.url, "/rss.xml", {"If-None-Match": before.header("ETag")}).status == 200


async def _get_all(url: str, count: int) -> list[int]:
    """``count`` connections opened at once, each sending one request; their status codes."""
    host, port = address(url)

    async def one() -> int:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(get("/news/feeds/rss.xml", "HTTP/1.0"))
        response = await reader.read()  # HTTP/1.0: the server closes after the response
        writer.close()
        return int(response.split(b" ", 2)[1])

    return list(await asyncio.wait_for(asyncio.gather(*(one() for _ in range(count))), 60))


def test_200_simultaneous_connections_are_all_answered(server: Served) -> None:
    statuses = asyncio.run(_get_all(server.url, 200))
    assert statuses == [200] * 200


def test_200_idle_connections_do_not_starve_a_new_request(server: Served) -> None:
    idle = [connect(server.url) for _ in range(200)]
    try:
        for sock in idle[::2]:
            sock.sendall(b"GET /news/feeds/ HTTP/1.1\r\n")  # half a head, then silence
        response = fetch(server.url, "/news/feeds/rss.xml")
        assert response.status == 200 and response.body.startswith(b"<rss>")
    finally:
        for sock in idle:
            sock.close()
