"""Cron-grade builds: cache, skipped work, lock, crash safety, WebSub, archives."""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest
from lxml import etree

from feedpub.cli import main
from feedpub.config import Config
from feedpub.lock import LOCK_NAME
from feedpub.output import TEMP_PREFIX
from feedpub.publish import build
from tests.conftest import BASE_URL, REPO, article_text

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def write_site(news: Path, count: int, *, start: int = 0, month: int = 5) -> None:
    news.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        day = 1 + i % 28
        (news / f"2024-{month:02d}-{day:02d}-story-{i}.md").write_text(
            article_text(
                title=f"Story {i}",
                url=f"https://a.example/{i}",
                date=f"2024-{month:02d}-{day:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                topics=[["AI", "Space", "Climate"][i % 3], "All"],
                domain=f"p{i % 4}.example",
                quality=i % 100,
            )
        )


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME and not p.name.startswith(TEMP_PREFIX)
    }


@pytest.fixture
def config(tmp_path: Path) -> Config:
    write_site(tmp_path / "site" / "_news", 30)
    return Config(
        sources=(tmp_path / "site",),
        out=tmp_path / "out",
        base_url=BASE_URL,
        state=tmp_path / "state" / "state.sqlite",
        max_items=10,
    )


def test_an_unchanged_corpus_is_not_built_again(config: Config) -> None:
    first = build(config, NOW)
    assert first.rendered == first.feeds and not first.skipped
    before = snapshot(config.out)
    second = build(config, NOW)
    assert second.skipped and second.written == ()
    assert (second.published, second.files_read) == (first.published, first.files_read)
    assert snapshot(config.out) == before


def test_touching_a_file_renders_nothing_and_editing_one_renders_its_feeds(
    config: Config,
) -> None:
    build(config, NOW)
    before = snapshot(config.out)
    news = config.sources[0] / "_news"
    victim = news / "2024-05-02-story-1.md"  # topics Space and All, provider p1
    os.utime(victim, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    touched = build(config, NOW)
    assert not touched.skipped and touched.rendered == 0 and touched.written == ()
    assert snapshot(config.out) == before

    victim.write_text(victim.read_text().replace("Story 1", "Story one, edited"))
    edited = build(config, NOW)
    # The story is among the 10 newest of topics/space and providers/p1 only.
    changed_feeds = {path.rsplit("/", 1)[0] for path in edited.written if "/" in path}
    assert changed_feeds == {"topics/space", "providers/p1.example"}
    assert edited.rendered == 2
    after = snapshot(config.out)
    for path, (data, mtime) in before.items():
        if path.rsplit("/", 1)[0] not in changed_feeds and path != "index.html":
            assert after[path] == (data, mtime), path
    titles = [e.title for e in feedparser.parse(after["topics/space/rss.xml"][0]).entries]
    assert "Story one, edited" in titles


def test_removed_files_leave_the_feeds(config: Config) -> None:
    build(config, NOW)
    news = config.sources[0] / "_news"
    next(news.glob("*-story-29.md")).unlink()
    report = build(config, NOW)
    assert report.files_read == 29
    site = json.loads((config.out / "feed.json").read_text())
    assert "Story 29" not in [i["title"] for i in site["items"]]


def test_the_cache_is_disposable(config: Config) -> None:
    build(config, NOW)
    before = {k: v[0] for k, v in snapshot(config.out).items()}
    assert config.state is not None
    for path in config.state.parent.iterdir():
        path.unlink()
    report = build(config, NOW)
    assert not report.skipped and report.written == ()  # same bytes, nothing rewritten
    assert {k: v[0] for k, v in snapshot(config.out).items()} == before


def test_a_state_file_that_is_not_one_is_moved_aside_and_the_build_runs_cold(
    config: Config,
) -> None:
    assert config.state is not None
    config.state.parent.mkdir(parents=True)
    config.state.write_bytes(b"not a database" * 100)
    report = build(config, NOW)
    assert report.written and not report.rejected
    [warning] = [w for w in report.warnings if "state file" in w]
    assert "unusable (file is not a database); moved aside to state.sqlite.corrupt-" in warning
    [aside] = config.state.parent.glob("state.sqlite.corrupt-*")
    assert aside.read_bytes() == b"not a database" * 100
    assert build(config, NOW).skipped  # the new state file works


def cli_args(config: Config, *extra: str) -> list[str]:
    return [
        "build",
        "--source",
        str(config.sources[0]),
        "--out",
        str(config.out),
        "--state",
        str(config.state),
        "--base-url",
        BASE_URL,
        *extra,
    ]


def test_a_run_finding_another_in_progress_exits_4(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    config.out.mkdir(parents=True)
    fd = os.open(config.out / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert main(cli_args(config)) == 4
        assert "another feedpub run is building" in capsys.readouterr().err
        assert not (config.out / "rss.xml").exists()
        threading.Timer(0.3, os.close, (fd,)).start()
        assert main(cli_args(config, "--wait", "10")) == 0
    finally:
        with contextlib.suppress(OSError):  # the timer may have closed it
            os.close(fd)
    assert (config.out / "rss.xml").is_file()


def feedpub_process(config: Config, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "feedpub", *cli_args(config, *extra)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def assert_every_feed_whole(out: Path) -> int:
    count = 0
    for path in out.rglob("*"):
        if path.name.endswith(".xml") or path.name == "index.opml":
            etree.parse(str(path))  # raises on a truncated document
            count += 1
        elif path.name == "feed.json":
            json.loads(path.read_text(encoding="utf-8"))
            count += 1
    return count


def test_killed_builds_never_leave_a_partial_feed(tmp_path: Path) -> None:
    news = tmp_path / "site" / "_news"
    write_site(news, 2500)  # enough for the process pool to start
    config = Config(
        sources=(tmp_path / "site",),
        out=tmp_path / "out",
        base_url=BASE_URL,
        state=tmp_path / "state.sqlite",
        max_items=20,
    )
    started = time.monotonic()
    assert feedpub_process(config).wait() == 0
    full_run = time.monotonic() - started
    reference = {k: v[0] for k, v in snapshot(config.out).items()}
    rng = random.Random(7)
    for round_number in range(8):
        # Change the input so every run has real work, then kill it somewhere.
        write_site(news, 40, start=2500 + 40 * round_number)
        process = feedpub_process(config, "--wait", "30")
        time.sleep(rng.uniform(0.05, full_run))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert assert_every_feed_whole(config.out) >= 3
    for path in news.glob("*.md"):
        if int(path.stem.rsplit("-", 1)[1]) >= 2500:
            path.unlink()
    assert feedpub_process(config).wait() == 0
    assert {k: v[0] for k, v in snapshot(config.out).items()} == reference
    assert not [p for p in config.out.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_concurrent_runs_take_turns(config: Config) -> None:
    runs = [feedpub_process(config, "--wait", "60") for _ in range(3)]
    assert [run.wait() for run in runs] == [0, 0, 0]
    assert assert_every_feed_whole(config.out) > 0


class HubStub(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, list[str]]]
    fail: bool

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(parse_qs(self.rfile.read(length).decode()))
        self.send_response(500 if self.fail else 202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[tuple[str, type[HubStub]]]:
    handler = type("Hub", (HubStub,), {"received": [], "fail": False})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hub", handler
    server.shutdown()
    server.server_close()


def test_websub_hubs_are_advertised_and_pinged_once_per_changed_feed(
    config: Config, hub: tuple[str, type[HubStub]]
) -> None:
    from dataclasses import replace

    url, handler = hub
    config = replace(config, hubs=(url,))
    build(config, NOW)
    feeds = 1 + 4 + 4  # the site, topics AI, Space, Climate, All, providers p0..p3
    pinged = [q["hub.url"][0] for q in handler.received]
    assert all(q["hub.mode"] == ["publish"] for q in handler.received)
    assert len(pinged) == len(set(pinged)) == feeds * 3
    assert BASE_URL + "topics/space/feed.json" in pinged
    rss = etree.parse(str(config.out / "rss.xml"))
    hubs = rss.findall(".//{http://www.w3.org/2005/Atom}link[@rel='hub']")
    assert [h.get("href") for h in hubs] == [url]
    assert json.loads((config.out / "feed.json").read_text())["hubs"] == [
        {"type": "WebSub", "url": url}
    ]

    handler.received.clear()
    build(config, NOW)
    assert handler.received == []

    write_site(config.sources[0] / "_news", 1, start=1000)  # 1000 % 3 == 1: Space, p0
    build(config, NOW)
    pinged = sorted(q["hub.url"][0] for q in handler.received)
    expected = sorted(
        BASE_URL + folder + name
        for folder in ("", "topics/space/", "topics/all/", "providers/p0.example/")
        for name in ("rss.xml", "atom.xml", "feed.json")
    )
    assert pinged == expected


def test_a_failing_hub_is_a_warning_not_a_failed_build(
    config: Config, hub: tuple[str, type[HubStub]]
) -> None:
    from dataclasses import replace

    url, handler = hub
    handler.fail = True
    report = build(replace(config, hubs=(url,)), NOW)
    assert (config.out / "rss.xml").is_file()
    assert any("WebSub hub" in w and "HTTP 500" in w for w in report.warnings)


def test_archive_pages_hold_every_item_and_stay_put(config: Config) -> None:
    from dataclasses import replace

    config = replace(config, archives=True)
    build(config, NOW)
    site = json.loads((config.out / "feed.json").read_text())
    seen = [i["title"] for i in site["items"]]
    next_url = site.get("next_url")
    while next_url:
        page = json.loads((config.out / next_url.removeprefix(BASE_URL)).read_text())
        seen += [i["title"] for i in page["items"]]
        next_url = page.get("next_url")
    assert sorted(set(seen), key=lambda t: int(t.split()[1])) == [f"Story {i}" for i in range(30)]
    archive = config.out / "archive" / "1" / "atom.xml"
    parsed = feedparser.parse(archive.read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 10
    root = etree.parse(str(archive)).getroot()
    assert root.find("{http://purl.org/syndication/history/1.0}archive") is not None
    pages_before = {k: v for k, v in snapshot(config.out).items() if k.startswith("archive/")}
    write_site(config.sources[0] / "_news", 3, start=100, month=6)  # newer; no page fills up
    build(config, NOW)
    pages_after = {k: v for k, v in snapshot(config.out).items() if k.startswith("archive/")}
    assert pages_after == pages_before


def test_parallel_and_serial_builds_write_identical_bytes(tmp_path: Path) -> None:
    from dataclasses import replace

    news = tmp_path / "site" / "_news"
    news.mkdir(parents=True)
    for i in range(2100):  # enough files and feeds (30 topics) for both process pools
        (news / f"2024-05-{1 + i % 28:02d}-s{i}.md").write_text(
            article_text(
                title=f"S{i}",
                url=f"https://a.example/{i}",
                date=f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                topics=[f"Topic {i % 30}"],
                domain=f"p{i % 5}.example",
            )
        )
    base = Config(sources=(tmp_path / "site",), out=tmp_path / "serial", base_url=BASE_URL)
    build(base, NOW, workers=1)
    build(replace(base, out=tmp_path / "parallel"), NOW, workers=2)
    serial = {k: v[0] for k, v in snapshot(tmp_path / "serial").items()}
    parallel = {k: v[0] for k, v in snapshot(tmp_path / "parallel").items()}
    assert len(serial) > 30 * 4
    assert parallel == serial
