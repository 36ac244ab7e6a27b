"""`feedpub serve` end to end: a real process on a free port, spoken to over HTTP."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from html.parser import HTMLParser
from pathlib import Path

import pytest

from feedpub.cli import main
from feedpub.servefiles import accepts_gzip, locate, recorded_base_url, wants_page
from tests.conftest import REPO, article_text
from tests.serving import fetch, serve_in_thread

BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)
READER_ACCEPT = "application/atom+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.1"
SECRET = "the contents of a file outside the output folder"
SITE_URL = "https://news.example.org/feeds/"


def as_served(path: Path, url: str) -> bytes:
    """A built file as the preview sends it: the site's address replaced with the server's."""
    data = path.read_bytes().replace(SITE_URL.encode(), url.encode())
    wrapping = (u.replace("/", "/<wbr>").replace(":/<wbr>/<wbr>", "://") for u in (SITE_URL, url))
    return data.replace(*(u.encode() for u in wrapping))


def write_site(root: Path) -> Path:
    """A site with two topics, and a config serving it at https://news.example.org/feeds/."""
    news = root / "site" / "_news"
    news.mkdir(parents=True)
    for i in range(3):
        (news / f"2024-05-0{i + 1}-story-{i}.md").write_text(
            article_text(
                title=f"Story {i}",
                url=f"https://a.example/{i}",
                date=f"2024-05-0{i + 1}T10:00:00Z",
                topics=["AI"] if i else ["AI", "Space"],
            )
        )
    config = root / "config.toml"
    config.write_text(
        'title = "Served News"\nbase_url = "https://news.example.org/feeds/"\n'
        'source = ["site"]\nout = "public/feeds"\n'
    )
    return config


def stop_process(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc`` if it still runs and close its stdout pipe, on every path out of a test."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`python -m feedpub serve --port 0` on a built site; yields its URL and output folder."""
    root = tmp_path_factory.mktemp("serve")
    config = write_site(root)
    assert main(["build", "--config", str(config), "--quiet"]) == 0
    out = root / "public" / "feeds"
    (root / "public" / "secret.txt").write_text(SECRET)
    (out / "leak.txt").symlink_to(root / "public" / "secret.txt")
    (out / "topics" / "alias.xml").symlink_to(out / "topics" / "ai" / "rss.xml")
    log = open(root / "serve.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "serve", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if "http://" not in line:
            proc.kill()
            proc.wait()
            pytest.fail(f"feedpub serve did not start: {line!r} {(root / 'serve.log').read_text()}")
        url = line.split(" at ")[1].split()[0]
        yield url, out
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop with exit code 0
        assert proc.wait(timeout=10) == 0
    finally:  # the pipe closed whatever happened: an open one fails a later test
        stop_process(proc)
        log.close()


def test_it_listens_on_loopback_at_the_base_url_path(served: tuple[str, Path]) -> None:
    url, _ = served
    assert url.startswith("http://127.0.0.1:") and url.endswith("/feeds/")
    root = url.removesuffix("feeds/")
    redirect = fetch(url, "/")
    assert redirect.status == 302 and redirect.header("Location") == "/feeds/"
    assert fetch(url, "/feeds/topics").header("Location") == "/feeds/topics/"
    assert fetch(root, "/elsewhere/rss.xml").status == 404


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("rss.xml", "application/rss+xml; charset=utf-8"),
        ("atom.xml", "application/atom+xml; charset=utf-8"),
        ("feed.json", "application/feed+json"),
        ("index.opml", "text/x-opml; charset=utf-8"),
        ("feed.xsl", "text/xsl; charset=utf-8"),
        ("", "text/html; charset=utf-8"),
        ("topics/ai/", "text/html; charset=utf-8"),
        ("topics/ai/rss.xml", "application/rss+xml; charset=utf-8"),
    ],
)
def test_every_file_has_its_media_type(
    served: tuple[str, Path], path: str, media_type: str
) -> None:
    url, out = served
    response = fetch(url, "/feeds/" + path)
    assert response.status == 200
    assert response.header("Content-Type") == media_type
    assert response.header("X-Content-Type-Options") == "nosniff"
    expected = out / path / "index.html" if not path or path.endswith("/") else out / path
    assert response.body == as_served(expected, url)


def test_etag_and_if_none_match_give_304(served: tuple[str, Path]) -> None:
    url, _ = served
    first = fetch(url, "/feeds/topics/ai/rss.xml")
    etag = first.header("ETag")
    assert etag.startswith('"') and not etag.startswith("W/"), "a strong validator"
    assert first.header("Cache-Control") == "no-cache"
    again = fetch(url, "/feeds/topics/ai/rss.xml", {"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again.header("ETag") == etag and again.header("Vary") == "Accept, Accept-Encoding"
    weak = fetch(url, "/feeds/topics/ai/rss.xml", {"If-None-Match": f'"x", W/{etag}'})
    assert weak.status == 304, "If-None-Match compares weakly (RFC 9110 13.1.2)"
    assert fetch(url, "/feeds/topics/ai/rss.xml", {"If-None-Match": '"other"'}).status == 200
    assert fetch(url, "/feeds/topics/ai/rss.xml", {"If-None-Match": "*"}).status == 304


def test_if_modified_since_gives_304_unless_the_file_is_newer(served: tuple[str, Path]) -> None:
    url, out = served
    first = fetch(url, "/feeds/feed.json")
    last_modified = first.header("Last-Modified")
    assert last_modified.endswith(" GMT")
    assert fetch(url, "/feeds/feed.json", {"If-Modified-Since": last_modified}).status == 304
    mtime = (out / "feed.json").stat().st_mtime
    older = formatdate(mtime - 3600, usegmt=True)
    assert fetch(url, "/feeds/feed.json", {"If-Modified-Since": older}).status == 200
    assert fetch(url, "/feeds/feed.json", {"If-Modified-Since": "yesterday"}).status == 200
    mismatch = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert fetch(url, "/feeds/feed.json", mismatch).status == 200, "If-None-Match wins"


def test_gzip_when_asked_with_its_own_etag(served: tuple[str, Path]) -> None:
    url, out = served
    plain = fetch(url, "/feeds/atom.xml")
    zipped = fetch(url, "/feeds/atom.xml", {"Accept-Encoding": "gzip, deflate, br"})
    assert plain.header("Content-Encoding") == ""
    assert zipped.header("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in zipped.header("Vary")
    assert gzip.decompress(zipped.body) == plain.body == as_served(out / "atom.xml", url)
    assert int(zipped.header("Content-Length")) == len(zipped.body) < len(plain.body)
    assert zipped.header("ETag") != plain.header("ETag")
    same = fetch(url, "/feeds/atom.xml", {"Accept-Encoding": "gzip"})
    assert same.body == zipped.body, "the gzip bytes are stable, so their ETag is strong"
    cached = {"Accept-Encoding": "gzip", "If-None-Match": zipped.header("ETag")}
    assert fetch(url, "/feeds/atom.xml", cached).status == 304
    refused = fetch(url, "/feeds/atom.xml", {"Accept-Encoding": "gzip;q=0, identity"})
    assert refused.header("Content-Encoding") == ""


def test_browsers_get_feeds_as_xml_so_the_stylesheet_applies(served: tuple[str, Path]) -> None:
    url, _ = served
    browser = fetch(url, "/feeds/topics/ai/rss.xml", {"Accept": BROWSER_ACCEPT})
    reader = fetch(url, "/feeds/topics/ai/rss.xml", {"Accept": READER_ACCEPT})
    assert browser.header("Content-Type") == "application/xml; charset=utf-8"
    assert reader.header("Content-Type") == "application/rss+xml; charset=utf-8"
    assert browser.body == reader.body
    assert browser.header("ETag") != reader.header("ETag"), "another representation"
    assert "Accept" in browser.header("Vary").split(", ")
    json_feed = fetch(url, "/feeds/feed.json", {"Accept": BROWSER_ACCEPT})
    assert json_feed.header("Content-Type") == "application/feed+json"


@pytest.mark.parametrize(
    "target",
    [
        "/feeds/../secret.txt",
        "/../secret.txt",
        "/feeds/topics/../../secret.txt",
        "/feeds/%2e%2e/secret.txt",
        "/feeds/%2E%2E%2Fsecret.txt",
        "/feeds/..%2fsecret.txt",
        "/feeds/%2e%2e%5csecret.txt",
        "/feeds/..\\secret.txt",
        "//etc/passwd",
        "/feeds//etc/passwd",
        "/feeds/%00",
        "/feeds/leak.txt",
        "/feeds/.feedpub-manifest.json",
        "http://127.0.0.1/feeds/../secret.txt",
    ],
)
def test_nothing_outside_the_folder_is_served(served: tuple[str, Path], target: str) -> None:
    url, _ = served
    response = fetch(url, target)
    assert response.status in (400, 404), response.status
    assert SECRET.encode() not in response.body


def test_a_symlink_inside_the_folder_is_followed(served: tuple[str, Path]) -> None:
    url, out = served
    response = fetch(url, "/feeds/topics/alias.xml")
    assert response.status == 200
    assert response.body == as_served(out / "topics" / "ai" / "rss.xml", url)


def test_head_sends_headers_only_and_other_methods_are_refused(
    served: tuple[str, Path],
) -> None:
    import http.client

    url, _ = served
    host, port = url.split("//")[1].split("/")[0].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("HEAD", "/feeds/rss.xml")
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b"" and int(head.getheader("Content-Length", 0))
    conn.request("POST", "/feeds/rss.xml", body=b"x")
    assert conn.getresponse().status == 501
    conn.close()


def test_unit_rules_for_paths_and_headers(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text("x")
    root = str(tmp_path.resolve())
    assert locate(root, "/", "/a/").file == f"{root}/a/index.html"
    assert locate(root, "/", "/a?x=1").location == "/a/"
    assert locate(root, "/", "/a/index.html#top").file is not None
    assert locate(root, "/f/", "/f").location == "/f/"
    assert accepts_gzip("GZIP") and accepts_gzip("*") and accepts_gzip("br;q=1, gzip;q=0.5")
    assert not accepts_gzip(None) and not accepts_gzip("*, gzip;q=0") and not accepts_gzip("br")
    assert wants_page(BROWSER_ACCEPT) and not wants_page(READER_ACCEPT)
    assert not wants_page("*/*") and not wants_page(None) and not wants_page("text/html;q=0")


def test_serving_a_missing_folder_or_a_taken_port_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--out", str(tmp_path / "nope"), "--port", "0"]) == 1
    assert "does not exist: run `feedpub build` first" in capsys.readouterr().err
    (tmp_path / "out").mkdir()
    with serve_in_thread(tmp_path / "out") as taken:
        port = taken.url.split(":")[2].split("/")[0]
        assert main(["serve", "--out", str(tmp_path / "out"), "--port", port]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_watch_builds_serves_and_rebuilds(tmp_path: Path) -> None:
    config = write_site(tmp_path)
    with open(tmp_path / "serve.log", "w") as log:
        command = ["serve", "--watch", "--config", str(config), "--port", "0"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedpub", *command],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split(" at ")[1].split()[0]
            assert b"Story 2" in fetch(url, "/feeds/rss.xml").body, "built before serving"
            draft = tmp_path / "site" / "_news" / ".fresh.md"
            draft.write_text(article_text(title="Fresh", url="https://a.example/fresh"))
            draft.rename(draft.with_name("2024-05-09-fresh.md"))
            deadline = time.monotonic() + 60
            # The rebuilt feed is served, and (just after) the rebuild is reported.
            while b"Fresh" not in fetch(url, "/feeds/rss.xml").body or (
                "sources changed: rebuilt" not in (tmp_path / "serve.log").read_text()
            ):
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            stop_process(proc)
    log_text = (tmp_path / "serve.log").read_text()
    assert "once a second" not in log_text, "file events, not polling"
    assert "rebuild failed" not in log_text


class _Links(HTMLParser):
    """The autodiscovery links (``<link rel="alternate">``) and anchors of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.alternates: list[str] = []
        self.anchors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "alternate" and found.get("href"):
            self.alternates.append(str(found["href"]))
        if tag == "a" and found.get("href"):
            self.anchors.append(str(found["href"]))


@contextmanager
def serve_process(*options: str) -> Iterator[tuple[str, Path]]:
    """`python -m feedpub serve --port 0 OPTIONS`: its URL, and a file with its stderr."""
    with tempfile.TemporaryDirectory() as logs:
        log_path = Path(logs) / "serve.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "feedpub", "serve", "--port", "0", *options],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
            assert proc.stdout is not None
            try:
                line = proc.stdout.readline()
                assert " at http://" in line, f"{line!r} {log_path.read_text()}"
                yield line.split(" at ")[1].split()[0], log_path
                proc.send_signal(signal.SIGINT)
                assert proc.wait(timeout=10) == 0
            finally:
                stop_process(proc)


def check_preview(url: str) -> int:
    """Follow the landing page's links and the styled feed's stylesheet; all stay on ``url``.

    Returns how many addresses were fetched.
    """
    assert url.endswith("/news/feeds/"), url
    origin = url.removesuffix("/news/feeds/")
    landing = fetch(url, "/news/feeds/", {"Accept": BROWSER_ACCEPT})
    assert landing.status == 200
    assert b"example.org" not in landing.body.replace(b"<wbr>", b"")
    links = _Links()
    links.feed(landing.body.decode())
    assert len(links.alternates) >= 3
    local = [href for href in links.alternates + links.anchors if href.startswith(origin)]
    assert set(links.alternates) <= set(local), "every autodiscovery link is on the preview"
    for href in sorted(set(local)):
        response = fetch(url, href.removeprefix(origin))
        assert response.status == 200, href
    styled = fetch(url, "/news/feeds/rss.xml", {"Accept": BROWSER_ACCEPT})
    assert styled.header("Content-Type") == "application/xml; charset=utf-8"
    stylesheet = re.search(rb'<\?xml-stylesheet type="text/xsl" href="([^"]+)"', styled.body)
    assert stylesheet is not None and stylesheet[1] == b"/news/feeds/feed.xsl"
    xsl = fetch(url, stylesheet[1].decode())
    assert xsl.status == 200 and xsl.header("Content-Type") == "text/xsl; charset=utf-8"
    assert f"<link>{url}</link>".encode() in styled.body
    assert f'<atom:link href="{url}rss.xml" rel="self"'.encode() in styled.body
    return len(set(local)) + 3


def test_serve_previews_a_deployment_at_its_base_url(tmp_path: Path) -> None:
    config = write_site(tmp_path)
    out = tmp_path / "deploy"
    base_url = "https://example.org/news/feeds/"
    assert main(["build", "--config", str(config), "--out", str(out), "--base-url", base_url]) == 0
    # --base-url given, and left out: then it is read back from the built feeds.
    for options in (("--base-url", base_url), ()):
        with serve_process("--out", str(out), *options) as (url, log):
            assert check_preview(url) >= 10
            assert "warning" not in log.read_text()
    assert recorded_base_url(out) == base_url
    # The config's base_url (news.example.org/feeds/) wins over the build's, with a warning.
    with serve_process("--config", str(config), "--out", str(out)) as (url, log):
        assert url.endswith("/feeds/") and not url.endswith("/news/feeds/")
        assert f"was built for {base_url}, not https://news.example.org/feeds/" in log.read_text()


def test_recorded_base_url_reads_atom_when_there_is_no_json_feed(tmp_path: Path) -> None:
    assert recorded_base_url(tmp_path) is None
    (tmp_path / "atom.xml").write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><link rel="alternate" href="https://a.example/"/>'
        '<link rel="self" href="https://a.example/x/atom.xml"/></feed>'
    )
    assert recorded_base_url(tmp_path) == "https://a.example/x/"
    (tmp_path / "feed.json").write_text('{"feed_url": "https://b.example/y/feed.json"}')
    assert recorded_base_url(tmp_path) == "https://b.example/y/"


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("99999", "argument --port: a port is 0 to 65535 (0: any free port), got 99999"),
        ("-1", "argument --port: a port is 0 to 65535 (0: any free port), got -1"),
        ("http", "argument --port: not a port number: 'http'"),
    ],
)
def test_a_port_out_of_range_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], port: str, message: str
) -> None:
    assert main(["serve", "--out", str(tmp_path), "--port", port]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bare_feedpub_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("usage: feedpub")
    for command in ("build", "check-links", "serve", "init"):
        assert command in captured.err
