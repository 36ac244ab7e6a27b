"""Progress of a build: what the library tells, what a terminal shows, and silence when piped."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pty
import re
import select
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedpub.cli import main
from feedpub.cli.progress import StepLine, describe_step, pluralize
from feedpub.config import Config, LinkPolicy
from feedpub.lock import LOCK_NAME
from feedpub.publish import LinkCheck, build, check_site_links
from feedpub.render.site import BATCHES_PER_WORKER, PARALLEL_MIN_FEEDS
from feedpub.sources.loader import CHUNK_FILES, SERIAL_CHUNK_FILES
from tests.conftest import BASE_URL, REPO, article_text
from tests.linkserver import LinkServer
from tests.test_incremental import cli_args

NOW = datetime(2024, 6, 1, tzinfo=UTC)
TOPICS = [f"Topic {n}" for n in range(30)]  # with the site and provider feeds: over 24 feeds

Call = tuple[str, int, int]


def write_site(news: Path, count: int, *, start: int = 0) -> None:
    news.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        (news / f"2024-05-{1 + i % 28:02d}-story-{i}.md").write_text(
            article_text(
                title=f"Story {i}",
                url=f"https://a.example/{i}",
                date=f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                topics=[TOPICS[i % len(TOPICS)]],
                domain=f"p{i % 3}.example",
            )
        )


def site_config(tmp_path: Path, count: int) -> Config:
    write_site(tmp_path / "site" / "_news", count)
    return Config(
        sources=(tmp_path / "site",),
        out=tmp_path / "out",
        base_url=BASE_URL,
        state=tmp_path / "state.sqlite",
    )


def steps_of(calls: list[Call], step: str) -> list[tuple[int, int]]:
    return [(done, total) for name, done, total in calls if name == step]


def assert_counts_up_to_the_end(counts: list[tuple[int, int]], total: int) -> None:
    assert counts, "the step was never told"
    assert all(t == total for _, t in counts)
    done = [d for d, _ in counts]
    assert done == sorted(done) and done[0] == 0 and done[-1] == total


def test_a_build_tells_each_step_in_order_and_counts_to_the_end(tmp_path: Path) -> None:
    count = SERIAL_CHUNK_FILES * 2 + 50
    config = site_config(tmp_path, count)
    calls: list[Call] = []
    report = build(config, NOW, workers=1, progress=lambda *call: calls.append(call))

    order = [name for name, _, _ in calls]
    firsts = sorted({name: order.index(name) for name in order}.items(), key=lambda x: x[1])
    assert [name for name, _ in firsts] == ["scan", "parse", "group", "render", "write"]
    assert calls[0] == ("scan", 0, 0)  # at once: a terminal shows something before any work
    assert steps_of(calls, "scan")[-1] == (count, count)
    # One file at a time would be too many calls; the whole lot at the end, too few.
    assert steps_of(calls, "parse") == [(n, count) for n in (0, 200, 400, count)]
    assert steps_of(calls, "group") == [(0, report.published)]
    assert_counts_up_to_the_end(steps_of(calls, "render"), report.rendered)
    assert len(steps_of(calls, "render")) == report.rendered + 1  # one feed at a time
    assert steps_of(calls, "write") == [(0, len(report.written) + report.unchanged)]


def test_an_unchanged_build_only_scans_and_an_edit_parses_one_file(tmp_path: Path) -> None:
    config = site_config(tmp_path, 30)
    build(config, NOW)
    calls: list[Call] = []
    assert build(config, NOW, progress=lambda *call: calls.append(call)).skipped
    assert {name for name, _, _ in calls} == {"scan"}
    assert calls[-1] == ("scan", 30, 30)

    write_site(config.sources[0] / "_news", 1, start=30)
    calls.clear()
    build(config, NOW, progress=lambda *call: calls.append(call))
    assert steps_of(calls, "parse") == [(0, 1), (1, 1)]


def test_parallel_parsing_and_rendering_tell_each_chunk_and_batch(tmp_path: Path) -> None:
    count = 2100  # enough for worker processes to parse
    config = site_config(tmp_path, count)
    calls: list[Call] = []
    report = build(config, NOW, workers=2, progress=lambda *call: calls.append(call))
    chunks = [*range(0, count, CHUNK_FILES), count]
    assert steps_of(calls, "parse") == [(n, count) for n in chunks]
    render = steps_of(calls, "render")
    assert report.rendered >= PARALLEL_MIN_FEEDS  # rendered by worker processes
    assert_counts_up_to_the_end(render, report.rendered)
    assert len(render) == 1 + 2 * BATCHES_PER_WORKER  # each batch heard as it comes back


def test_a_link_check_tells_its_scan_and_parse_then_its_links(
    tmp_path: Path, link_server: LinkServer
) -> None:
    news = tmp_path / "site" / "_news"
    news.mkdir(parents=True)
    for i in range(3):
        url = link_server.url(f"/ok?n={i}")
        (news / f"story-{i}.md").write_text(article_text(title=f"S{i}", url=url))
    config = Config(
        sources=(tmp_path / "site",),
        state=tmp_path / "state.sqlite",
        links=LinkPolicy(allow_private=True),
    )
    steps: list[Call] = []
    links: list[tuple[int, int, int]] = []
    check = LinkCheck(progress=lambda *call: links.append(call))
    check_site_links(config, check, lambda *call: steps.append(call))
    assert steps[-1] == ("parse", 3, 3)
    assert steps_of(steps, "scan")[-1] == (3, 3)
    assert links[-1] == (3, 3, 0)


def test_a_build_without_a_callback_writes_the_same_files(tmp_path: Path) -> None:
    config = site_config(tmp_path, 40)
    quiet = replace(config, out=tmp_path / "quiet", state=tmp_path / "quiet.sqlite")
    build(config, NOW, progress=lambda *call: None)
    build(quiet, NOW)
    files = sorted(p.relative_to(config.out) for p in config.out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(quiet.out) for p in quiet.out.rglob("*") if p.is_file())
    for name in files:
        assert (config.out / name).read_bytes() == (quiet.out / name).read_bytes()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_draws_at_once_then_at_most_ten_times_a_second() -> None:
    stream, clock = io.StringIO(), FakeClock()
    line = StepLine(stream, clock)
    line("scan", 0, 0)
    assert stream.getvalue() == "\rscanning sources: 0 files found\033[K"
    for n in range(1, 10):  # 90 ms: no redraw
        clock.now += 0.01
        line("scan", n, 0)
    assert stream.getvalue().count("\r") == 1
    clock.now += 0.01
    line("parse", 0, 400)  # the step starts here, 100 ms after the first draw
    assert stream.getvalue().endswith(f"\rparsing files [{'.' * 24}] 0/400\033[K")
    clock.now += 2.0
    line("parse", 100, 400)
    assert stream.getvalue().endswith(
        f"\rparsing files [{'#' * 6}{'.' * 18}] 100/400, 50/s, 6 s left\033[K"
    )
    draws = stream.getvalue().count("\r")
    line.clear()
    assert stream.getvalue().count("\r") == draws + 1
    assert stream.getvalue().endswith("\r\033[K")
    line.clear()  # nothing drawn since: nothing to erase
    assert stream.getvalue().count("\r") == draws + 1


def test_a_line_never_drawn_is_not_cleared() -> None:
    stream = io.StringIO()
    StepLine(stream, FakeClock()).clear()
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (("scan", 1, 0), "scanning sources: 1 file found"),
        (("scan", 20000, 20000), "scanning sources: 20000 files found"),
        (("group", 0, 1), "grouping 1 article"),
        (("group", 0, 13755), "grouping 13755 articles"),
        (("render", 46, 46), f"rendering feeds [{'#' * 24}] 46/46, 23/s, 0 s left"),
        (("write", 0, 186), "writing 186 files"),
    ],
)
def test_each_step_reads_as_a_sentence(call: Call, text: str) -> None:
    assert describe_step(*call, seconds=2.0) == text


def test_counts_agree_with_their_nouns() -> None:
    assert [pluralize(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert pluralize(1, "story", "stories") == "1 story"
    assert pluralize(3, "story", "stories") == "3 stories"


# Every redraw is one of these; then the line is erased and the summary printed.
PROGRESS_LINE = re.compile(
    r"scanning sources: \d+ files? found"
    r"|(parsing files|rendering feeds) \[[#.]{24}\] \d+/\d+(, \d+/s, \d+ s left)?"
    r"|grouping \d+ articles?|writing \d+ files?"
)


def run_in_a_terminal(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run a command with stderr on a pseudo-terminal; its exit code and what the terminal got."""
    main_fd, terminal = pty.openpty()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    os.close(terminal)
    received = bytearray()
    with contextlib.closing(io.FileIO(main_fd, "r")) as reader:
        while True:
            ready, _, _ = select.select([main_fd], [], [], 60)
            assert ready, "no output for a minute"
            try:
                data = reader.read(65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not data:
                break
            received += data
    return process.wait(timeout=60), received.decode("utf-8").replace("\r\n", "\n")


def command(config: Config, *extra: str) -> list[str]:
    return [sys.executable, "-m", "feedpub", *cli_args(config, *extra)]


def test_a_terminal_sees_progress_lines_and_a_pipe_sees_none(tmp_path: Path) -> None:
    config = site_config(tmp_path, 300)
    code, seen = run_in_a_terminal(command(config), tmp_path)
    assert code == 0, seen
    progress, _, summary = seen.rpartition("\r\033[K")  # erased before the summary
    redraws = progress.split("\r")
    assert redraws[0] == "" and len(redraws) >= 2, seen
    assert redraws[1] == "scanning sources: 0 files found\033[K"
    for text in redraws[1:]:
        assert PROGRESS_LINE.fullmatch(text.removesuffix("\033[K")), text
    assert summary.startswith("300 files read: 300 published,")

    piped = replace(config, out=tmp_path / "piped", state=tmp_path / "piped.sqlite")
    run = subprocess.run(
        command(piped),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr and "\033" not in run.stderr
    assert run.stderr.startswith("300 files read: 300 published,")
    assert len(run.stderr.splitlines()) == 2  # the summary, and nothing else


def test_quiet_on_a_terminal_draws_nothing(tmp_path: Path) -> None:
    config = site_config(tmp_path, 30)
    code, seen = run_in_a_terminal(command(config, "--quiet"), tmp_path)
    assert code == 0
    assert seen == ""


@pytest.fixture(autouse=True)
def away_from_the_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no config.toml is: the repository's own would be read."""
    monkeypatch.chdir(tmp_path)


def hold_lock(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_wait_says_it_is_waiting_once_then_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site_config(tmp_path, 5)
    argv = command(config, "--wait", "30")[3:]
    fd = hold_lock(config.out)
    try:
        threading.Timer(0.3, os.close, (fd,)).start()
        assert main(argv) == 0
    finally:
        with contextlib.suppress(OSError):  # the timer may have closed it
            os.close(fd)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "waiting for another feedpub run to finish (up to 30 s)…"
    assert err[1].startswith("5 files read: 5 published")


def test_wait_that_runs_out_says_so_then_why_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site_config(tmp_path, 5)
    fd = hold_lock(config.out)
    try:
        assert main(command(config, "--wait", "0.2")[3:]) == 4
        assert capsys.readouterr().err.splitlines() == [
            "waiting for another feedpub run to finish (up to 0.2 s)…",
            f"feedpub: another feedpub run is building {config.out} (waited 0.2 s; "
            "use --wait SECONDS to wait longer)",
        ]
        assert main(command(config, "--wait", "0.2", "--quiet")[3:]) == 4
        assert "waiting" not in capsys.readouterr().err
        assert main(command(config)[3:]) == 4  # no --wait: no waiting either
        assert "waiting" not in capsys.readouterr().err
    finally:
        os.close(fd)


def test_no_waiting_line_when_the_folder_is_free(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = site_config(tmp_path, 5)
    assert main(command(config, "--wait", "30")[3:]) == 0
    assert "waiting" not in capsys.readouterr().err
