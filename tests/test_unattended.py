"""Safe to leave unattended: what cron, an operator and an attacker can do to a build.

Every build here is the real command in a child process (``python -m feedpub``)
on real files: killed, stopped, pointed at an empty or half-missing source,
fed files that expand without bound, folders it cannot walk, a damaged state
file, stories dated tomorrow and file names that differ only in escapes.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lxml import etree

from tests.conftest import BASE_URL, CORPUS, REPO, article_text

NOW = "2026-11-30T12:00:00Z"
ENV = os.environ | {"PYTHONPATH": str(REPO)}
BIG_FILES = 2000  # the loader's pool starts at this many files to parse
MIB = 1 << 20


# --------------------------------------------------------------------------- running builds


def feedpub(
    *args: str, cwd: Path, wrap: tuple[str, ...] = (), timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The command in a child process, in ``cwd`` (never the repository: its config.toml)."""
    return subprocess.run(
        [*wrap, sys.executable, "-m", "feedpub", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )


def build_args(source: Path, out: Path, state: Path | None, *extra: str) -> list[str]:
    args = ["build", "--source", str(source), "--out", str(out), "--base-url", BASE_URL]
    args += ["--now", NOW] if "--now" not in extra else []
    return [*args, *(["--state", str(state)] if state is not None else []), *extra]


def parse_every_feed(out: Path) -> int:
    """Parse every XML, OPML and JSON feed under ``out``; how many feeds there are."""
    feeds = 0
    for path in sorted(out.rglob("*")):
        if path.suffix in (".xml", ".opml", ".xsl"):
            etree.parse(str(path))  # raises on a truncated or broken document
            feeds += path.name in ("rss.xml", "atom.xml")
        elif path.name == "feed.json":
            json.loads(path.read_bytes())
            feeds += 1
    return feeds


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file's bytes and mtime and every folder's mtime under root."""
    found: dict[str, tuple[bytes | None, int]] = {".": (None, root.stat().st_mtime_ns)}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        data = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        found[path.relative_to(root).as_posix()] = (data, info.st_mtime_ns)
    return found


def site_feed_urls(out: Path) -> set[str]:
    """The links of every item of the site's JSON feed."""
    items = json.loads((out / "feed.json").read_bytes())["items"]
    return {str(item["url"]) for item in items}


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def front_matter(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("---", 2)[1])
    assert isinstance(data, dict)
    return data


def write_articles(news: Path, count: int, *, prefix: str = "story", topics: int = 12) -> set[str]:
    """``count`` good articles over ``topics`` topics; their URLs."""
    news.mkdir(parents=True, exist_ok=True)
    urls = set()
    for i in range(count):
        url = f"https://good.example/{prefix}/{i}"
        (news / f"2024-05-{1 + i % 28:02d}-{prefix}-{i}.md").write_text(
            article_text(
                title=f"{prefix.title()} {i}",
                url=url,
                date=f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                topics=[f"Topic {i % topics}"],
                domain=f"p{i % 5}.example",
            ),
            encoding="utf-8",
        )
        urls.add(url)
    return urls


WEB_URL = re.compile(r"^(webUrl|originalUrl):.*$", re.MULTILINE)


def make_big_site(site: Path, count: int) -> None:
    """``count`` article files: the shared corpus's, copied under new names and URLs, if here."""
    real = CORPUS / "powerapps" / "_news"
    if not real.is_dir():
        write_articles(site / "_news", count)
        return
    news = site / "_news"
    news.mkdir(parents=True)
    originals = sorted(real.glob("*.md"))
    texts = [p.read_text(encoding="utf-8") for p in originals]
    for i in range(count):
        k = i % len(texts)
        text = WEB_URL.sub(rf'\1: "https://copy.example/{i}"', texts[k])
        (news / f"{originals[k].stem}-copy-{i}.md").write_text(text, encoding="utf-8")
    if (real.parent / "_data").is_dir():
        shutil.copytree(real.parent / "_data", site / "_data")


# --------------------------------------------------------------------------- processes


def process_start(pid: int) -> int | None:
    """The start time of a live process (None when gone or a zombie): tells PIDs reused."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


def children_of(pid: int) -> dict[int, int]:
    """The live child processes of ``pid``, with their start times."""
    found: dict[int, int] = {}
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids = [int(p) for p in path.read_text().split()]
        except OSError:
            continue
        for child in pids:
            start = process_start(child)
            if start is not None:
                found[child] = start
    return found


def wait_for_pool(process: subprocess.Popen[bytes]) -> dict[int, int]:
    """Wait until the build's process pool runs; its workers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = children_of(process.pid)
        if workers:
            return workers
        if process.poll() is not None:
            break
        time.sleep(0.002)
    raise AssertionError(f"the build never started its pool (exit {process.poll()})")


def survivors(processes: dict[int, int], within: float) -> list[int]:
    """The processes still alive after ``within`` seconds (a bound, not a measure)."""
    deadline = time.monotonic() + within
    while True:
        alive = [pid for pid, start in processes.items() if process_start(pid) == start]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.01)


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2,
    reason="needs Linux /proc and at least 2 cores (the loader's pool)",
)


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("big") / "site"
    make_big_site(site, BIG_FILES)
    return site


def start_build(site: Path, out: Path, state: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """A build in the background, its stderr to ``cwd/stderr.txt`` (a file: an orphan
    holding a pipe open would hang the reader, not fail the test)."""
    with open(cwd / "stderr.txt", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "feedpub", *build_args(site, out, state)],
            cwd=cwd,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group: Ctrl-C goes to it alone
            preexec_fn=default_sigint,
        )


def default_sigint() -> None:
    """Ctrl-C as in a terminal, even when these tests run where SIGINT is ignored
    (a background job of a shell): an ignored SIGINT is ignored by the child too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_while_pool_runs(
    site: Path,
    out: Path,
    state: Path,
    cwd: Path,
    rng: random.Random,
    how: signal.Signals,
    group: bool = False,
) -> tuple[subprocess.Popen[bytes], dict[int, int]]:
    """Start a cold build and send it ``how`` at a random moment while a pool of it runs.

    Returns the stopped build and every worker seen. A moment that falls after
    the pools ended (a loaded machine) is not a stop of a running pool: that
    build is let finish, its files removed, and another one started.
    """
    for _ in range(5):
        process = start_build(site, out, state, cwd)
        workers = wait_for_pool(process)
        time.sleep(rng.uniform(0, 0.1))
        running = children_of(process.pid)
        if running:
            if group:
                os.killpg(process.pid, how)
            else:
                process.send_signal(how)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()  # its workers die with it
                process.wait()
                raise AssertionError(f"the build did not end after {how.name}") from None
            return process, workers | running
        assert process.wait(timeout=60) == 0
        shutil.rmtree(out)
        state.unlink(missing_ok=True)
    raise AssertionError("five builds in a row ended their pools before the moment chosen")


def assert_all_gone(processes: dict[int, int], what: str) -> None:
    alive = survivors(processes, within=5)
    for pid in alive:  # ours (children of a build this test started): do not leave them
        os.kill(pid, signal.SIGKILL)
    assert alive == [], f"{len(alive)} worker processes outlived the build ({what})"


# --------------------------------------------------------------------------- kill


@needs_proc
def test_killed_cold_builds_leave_no_process_no_lock_and_whole_feeds(
    big_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    rng = random.Random(20261130)
    kinds = (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP)
    for round_number in range(10):
        kind = kinds[round_number % 3]
        # A new state file each round: every killed build is cold and parses on every core.
        state = tmp_path / f"state-{round_number}" / "state.sqlite"
        process, workers = stop_while_pool_runs(big_site, out, state, tmp_path, rng, kind)
        stderr = (tmp_path / "stderr.txt").read_text(encoding="utf-8", errors="replace")
        if kind == signal.SIGKILL:
            assert process.returncode == -signal.SIGKILL
        else:
            assert process.returncode == 128 + kind, stderr
            assert stderr.splitlines() == [stderr.strip()], stderr
            assert stderr.startswith(f"feedpub: stopped by {kind.name}")
        assert "Traceback" not in stderr
        assert_all_gone(workers, kind.name)
        parse_every_feed(out)
        after = feedpub(*build_args(big_site, out, state), cwd=tmp_path)  # no --wait
        assert after.returncode in (0, 3), after.stderr
        assert "Traceback" not in after.stderr
        assert parse_every_feed(out) >= 6


# --------------------------------------------------------------------------- Ctrl-C


@needs_proc
def test_ctrl_c_in_a_cold_build_is_one_line_and_exit_130(big_site: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    done = feedpub(*build_args(big_site, reference, None), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    complete = {p.relative_to(reference) for p in reference.rglob("*") if p.is_file()}
    rng = random.Random(130)
    for round_number in range(5):
        out = tmp_path / f"out-{round_number}"
        state = tmp_path / f"state-{round_number}.sqlite"
        # As a terminal's Ctrl-C: to the whole process group.
        process, workers = stop_while_pool_runs(
            big_site, out, state, tmp_path, rng, signal.SIGINT, group=True
        )
        stderr = (tmp_path / "stderr.txt").read_text(encoding="utf-8", errors="replace")
        assert_all_gone(workers, "SIGINT")
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert len(stderr.splitlines()) == 1, stderr
        assert stderr.startswith("feedpub: stopped by SIGINT")
        written = (
            {p.relative_to(out) for p in out.rglob("*") if p.is_file()} if out.exists() else set()
        )
        feeds = {p for p in written if p.name in ("rss.xml", "atom.xml", "feed.json")}
        if feeds:  # complete, never half
            assert written >= complete
            parse_every_feed(out)


# --------------------------------------------------------------------------- shrink guard


def shrink_site(root: Path) -> Path:
    """The real corpus when here, else a generated site of 12 topics."""
    site = root / "site"
    real = CORPUS / "powerapps"
    if (real / "_news").is_dir():
        shutil.copytree(real, site)
    else:
        write_articles(site / "_news", 120)
    return site


def drop_half(news: Path) -> None:
    """Remove half of the article files, published ones first (drafts lose nothing)."""
    files = sorted(news.glob("*.md"))
    published = [p for p in files if front_matter(p).get("published") is not False]
    drafts = [p for p in files if p not in published]
    for path in (published + drafts)[: len(files) // 2]:
        path.unlink()


def test_an_empty_or_half_missing_source_is_refused_and_the_output_kept(tmp_path: Path) -> None:
    site = shrink_site(tmp_path)
    out, state = tmp_path / "out", tmp_path / "state.sqlite"
    good = feedpub(*build_args(site, out, state, "--json"), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    published = json.loads(good.stdout)["published"]
    assert parse_every_feed(out) >= 3 * 10  # the site and at least 9 topics or providers
    before = snapshot(out)
    empty = tmp_path / "empty"
    empty.mkdir()
    half = tmp_path / "half"
    shutil.copytree(site, half)
    drop_half(half / "_news")

    refused = feedpub(*build_args(empty, out, state), cwd=tmp_path)
    assert refused.returncode == 7, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "refusing to publish: no story would remain" in refused.stderr
    assert "feeds would be removed" in refused.stderr
    assert snapshot(out) == before

    refused = feedpub(*build_args(half, out, state), cwd=tmp_path)
    assert refused.returncode == 7, refused.stderr
    assert re.search(
        r"refusing to publish: \d+ of the last build's \d+ stories would remain", refused.stderr
    ), refused.stderr
    assert "--allow-shrink" in refused.stderr
    assert snapshot(out) == before

    missing = feedpub(*build_args(tmp_path / "gone", out, state), cwd=tmp_path)
    assert missing.returncode == 1, missing.stderr
    assert missing.stderr.splitlines() == [missing.stderr.strip()]
    assert "gone" in missing.stderr and "does not exist" in missing.stderr
    assert snapshot(out) == before

    accepted = feedpub(*build_args(half, out, state, "--allow-shrink", "--json"), cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert 0 < json.loads(accepted.stdout)["published"] <= published // 2 + 1
    accepted = feedpub(*build_args(empty, out, state, "--allow-shrink"), cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert site_feed_urls(out) == set()
    assert parse_every_feed(out) == 3  # the site's own feeds alone, empty


# --------------------------------------------------------------------------- scheduled

TODAY = "2026-11-30T12:00:00Z"
RELEASE = "2026-12-01T09:30:00Z"  # tomorrow
DAY_AFTER = "2026-12-02T12:00:00Z"
SOON = "https://soon.example/tomorrow"


def every_output_holding(out: Path, text: str) -> list[str]:
    """The files of ``out`` whose bytes hold ``text``."""
    needle = text.encode()
    return sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and needle in p.read_bytes()
    )


def scheduled_site(root: Path) -> Path:
    site = root / "site"
    write_articles(site / "_news", 6, topics=2)
    (site / "_news" / "2026-12-01-tomorrow.md").write_text(
        article_text(title="Tomorrow's story", url=SOON, date=RELEASE, topics=["Topic 0"])
    )
    return site


def test_a_story_dated_tomorrow_waits_for_its_date(tmp_path: Path) -> None:
    site, out = scheduled_site(tmp_path), tmp_path / "out"
    today = feedpub(*build_args(site, out, None, "--now", TODAY, "--json"), cwd=tmp_path)
    assert today.returncode == 0, today.stderr
    assert "7 files read: 6 published, 1 scheduled (next at 2026-12-01 09:30 UTC)" in today.stderr
    report = json.loads(today.stdout)
    assert (report["published"], report["scheduled"]) == (6, 1)
    assert report["next_release"] == RELEASE
    assert parse_every_feed(out) >= 6
    assert every_output_holding(out, SOON) == []
    assert every_output_holding(out, "2026-12-01") == []  # no feed dated in the future

    later = feedpub(*build_args(site, out, None, "--now", DAY_AFTER, "--json"), cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    report = json.loads(later.stdout)
    assert (report["published"], report["scheduled"], report["next_release"]) == (7, 0, None)
    holding = every_output_holding(out, SOON)
    for feed in ("rss.xml", "atom.xml", "feed.json", "topics/topic-0/rss.xml"):
        assert feed in holding


def test_the_no_change_run_after_the_date_publishes_the_scheduled_story(tmp_path: Path) -> None:
    site, out, state = scheduled_site(tmp_path), tmp_path / "out", tmp_path / "state.sqlite"
    first = feedpub(*build_args(site, out, state, "--now", TODAY), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = feedpub(*build_args(site, out, state, "--now", TODAY), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stderr and "1 scheduled" in again.stderr
    assert every_output_holding(out, SOON) == []
    due = feedpub(*build_args(site, out, state, "--now", DAY_AFTER, "--json"), cwd=tmp_path)
    assert due.returncode == 0, due.stderr
    assert "nothing changed" not in due.stderr
    assert json.loads(due.stdout)["published"] == 7
    assert SOON in site_feed_urls(out)
    assert "topics/topic-0/atom.xml" in every_output_holding(out, SOON)


# --------------------------------------------------------------------------- cache keys


@pytest.mark.skipif(sys.platform != "linux", reason="file names of any bytes: Linux")
@pytest.mark.parametrize(
    ("one", "other"),
    [(b"new\nline.md", b"new\\nline.md"), (b"caf\xe9.md", b"caf\\xe9.md")],
    ids=["newline", "latin-1"],
)
def test_names_that_escape_alike_are_two_stories_from_the_cache_too(
    tmp_path: Path, one: bytes, other: bytes
) -> None:
    site, out, state = tmp_path / "site", tmp_path / "out", tmp_path / "state.sqlite"
    urls = write_articles(site / "_news", 3)
    for number, name in enumerate((one, other)):
        url = f"https://names.example/{number}"
        path = os.path.join(os.fsencode(site / "_news"), name)
        with open(path, "wb") as f:
            f.write(article_text(title=f"Name {number}", url=url).encode())
        urls.add(url)
    for run in range(3):
        if run == 2:  # a new file: the build runs, the two come from the cache
            urls |= write_articles(site / "_news", 1, prefix="extra")
        done = feedpub(*build_args(site, out, state, "--json"), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["duplicates"] == 0
        assert report["published"] == len(urls)
        assert site_feed_urls(out) == urls
        with contextlib.closing(sqlite3.connect(state)) as db:
            assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(urls)


# --------------------------------------------------------------------------- state file


def as_plain_user() -> tuple[str, ...]:
    """A command prefix under which folder permissions bind this process (root or not)."""
    if os.geteuid() != 0:
        return ()
    wrap = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search")
    if shutil.which("setpriv") is None or subprocess.run([*wrap, "true"]).returncode != 0:
        pytest.skip("running as root, and without setpriv root reads and writes any folder")
    return wrap


def damage_variants(good: bytes, seed: int) -> Iterator[tuple[str, bytes]]:
    """Seeded truncations and random bytes at random offsets of a good state file."""
    rng = random.Random(seed)
    for length in [60, *sorted(rng.sample(range(101, len(good)), 5))]:
        yield f"truncated to {length:,} bytes", good[:length]
    for _ in range(20):
        offset, size = rng.randrange(len(good)), rng.randint(1, 64)
        noise = rng.randbytes(size)
        yield f"{size} random bytes at {offset:,}", good[:offset] + noise + good[offset + size :]


def damage_with_sql(path: Path, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        for statement in statements:
            db.execute(statement)
        db.commit()


def test_a_damaged_state_file_is_moved_aside_and_the_next_run_uses_the_cache(
    tmp_path: Path,
) -> None:
    site, out = tmp_path / "site", tmp_path / "out"
    write_articles(site / "_news", 30)
    good_state = tmp_path / "good" / "state.sqlite"
    first = feedpub(*build_args(site, out, good_state), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert not Path(f"{good_state}-wal").exists()  # all of it is in the one file
    good = good_state.read_bytes()
    expected = snapshot(out)

    cases: list[tuple[str, Path, bool]] = []  # what, state file, surely damaged
    for number, (what, data) in enumerate(damage_variants(good, seed=10)):
        path = tmp_path / f"case-{number}" / "state.sqlite"
        path.parent.mkdir()
        path.write_bytes(data)
        cases.append((what, path, what.startswith("truncated")))
    for what, statements in {
        "a dropped table": ("DROP TABLE articles",),
        "a newer schema": ("PRAGMA user_version = 99",),
        "missing columns": ("DROP TABLE links", "CREATE TABLE links (url TEXT PRIMARY KEY)"),
    }.items():
        path = tmp_path / what.replace(" ", "-") / "state.sqlite"
        path.parent.mkdir()
        path.write_bytes(good)
        damage_with_sql(path, *statements)
        cases.append((what, path, True))
    folder = tmp_path / "folder" / "state.sqlite"
    (folder / "inside").mkdir(parents=True)
    cases.append(("a folder", folder, True))
    fifo = tmp_path / "fifo" / "state.sqlite"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    cases.append(("a FIFO", fifo, True))

    for what, state, damaged in cases:
        run = feedpub(*build_args(site, out, state), cwd=tmp_path, timeout=60)
        assert run.returncode in (0, 3), f"{what}: {run.stderr}"
        assert "Traceback" not in run.stderr, what
        moved = [w for w in warnings_of(run.stderr) if "moved aside" in w]
        aside = [p for p in state.parent.glob("state.sqlite.corrupt-*") if p.name[-4:] != "-wal"]
        aside = [p for p in aside if not p.name.endswith("-shm")]
        if damaged or moved:
            assert len(moved) == 1, f"{what}: {run.stderr}"
            assert [p.name for p in aside] == [moved[0].split("moved aside to ")[1].split()[0]]
        else:
            assert aside == [], what
        assert state.is_file()
        assert snapshot(out) == expected, what  # the same feeds, not one byte changed
        again = feedpub(*build_args(site, out, state), cwd=tmp_path, timeout=60)
        assert again.returncode == 0, f"{what}: {again.stderr}"
        assert warnings_of(again.stderr) == [], f"{what}: {again.stderr}"
        assert "nothing changed" in again.stderr, f"{what}: {again.stderr}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX permissions")
@pytest.mark.parametrize("existing", [True, False], ids=["existing-file", "new-file"])
def test_a_read_only_state_folder_is_one_error_line(tmp_path: Path, existing: bool) -> None:
    wrap = as_plain_user()
    site, out, folder = tmp_path / "site", tmp_path / "out", tmp_path / "state"
    write_articles(site / "_news", 5)
    folder.mkdir()
    state = folder / "state.sqlite"
    if existing:
        first = feedpub(*build_args(site, out, state), cwd=tmp_path)
        assert first.returncode == 0, first.stderr
    before = snapshot(folder)
    folder.chmod(0o555)
    try:
        run = feedpub(*build_args(site, out, state), cwd=tmp_path, wrap=wrap)
    finally:
        folder.chmod(0o755)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [run.stderr.strip()], run.stderr
    assert run.stderr.startswith("feedpub: error:") and str(state) in run.stderr
    assert snapshot(folder) == before


# --------------------------------------------------------------------------- amplification

LARGE = 300_000  # characters of the one anchored value: far over the bound once repeated
SMALL = 140  # characters of one that stays under it (10,000 times: 1.4 million)
ALIASES = 10_000
LONG = 900_000  # characters of one text field


def hostile_head(name: str, topics: int = 1) -> str:
    lines = ["---", f"title: {name}", f'webUrl: "https://hostile.example/{name}"']
    lines += ["publishedDateTime: 2024-05-20T10:00:00Z", "topics:"]
    lines += [f"  - Hostile {i}" for i in range(topics)]
    return "\n".join(lines) + "\n"


def hostile_files() -> dict[str, str]:
    """Files that once took minutes, gigabytes or hundreds of megabytes of output."""
    many = "".join("  - *big\n" for _ in range(ALIASES))
    long = "y " * (LONG // 2)
    files = {}
    for size, value in (("large", "x" * LARGE), ("small", "x" * SMALL)):
        related = f'  - &big {{title: "{value}", webUrl: "https://related.example/a"}}\n'
        image = f'  - &big {{url: "https://img.example/{value}", width: 10, height: 10}}\n'
        topic = f'  - &big "{value}"\n'
        name = f"aliased-{size}-topics"
        files[f"{name}.md"] = hostile_head(name).replace("  - Hostile 0\n", topic) + many
        name = f"aliased-{size}-related"
        files[f"{name}.md"] = hostile_head(name) + "related:\n" + related + many
        name = f"aliased-{size}-images"
        files[f"{name}.md"] = hostile_head(name) + "images:\n" + image + many
    return files | {
        "long-title.md": hostile_head("long-title", 20).replace(
            "title: long-title", f'title: "{long}"'
        ),
        "long-excerpt.md": hostile_head("long-excerpt", 20) + f'excerpt: "{long}"\n',
        "long-content.md": hostile_head("long-content", 20) + f'featuredContent: "<p>{long}</p>"\n',
    }


MEASURE = """
import json, resource, sys
from feedpub.sources import SourceFile, load_file
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
loaded = load_file(SourceFile(sys.argv[1], sys.argv[1]), 1 << 20)
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
a = loaded.article
sizes = None if a is None else [len(a.title), len(a.excerpt), len(a.featured_html),
                                 len(a.topics), len(a.images), len(a.related)]
print(json.dumps({"rejection": None if loaded.rejection is None else loaded.rejection.reason,
                  "notes": list(loaded.notes), "sizes": sizes, "grew": grew}))
"""
# What an article keeps at most (fields.py: MAX_TITLE_CHARS, MAX_EXCERPT_CHARS,
# MAX_HTML_CHARS, MAX_TOPICS, MAX_IMAGES, MAX_RELATED), asserted here as numbers.
KEPT = [500, 5_000, 100_000, 20, 10, 20]


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, text in hostile_files().items():
        (folder / name).write_text("\n".join([text.rstrip("\n"), "---", ""]), encoding="utf-8")
        assert (folder / name).stat().st_size < 1 << 20  # under the size limit: parsed
    return folder


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB: Linux")
@pytest.mark.parametrize("name", sorted(hostile_files()))
def test_a_hostile_file_is_rejected_or_trimmed_in_bounded_memory(
    hostile_folder: Path, name: str
) -> None:
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(hostile_folder / name)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,  # the files this stands for ran for minutes
        check=True,
    )
    result = json.loads(run.stdout)
    assert result["grew"] < 100 * MIB
    if result["rejection"] is not None:
        assert "expands to over" in result["rejection"]
        return
    assert all(size <= most for size, most in zip(result["sizes"], KEPT, strict=True))
    if "topics" not in name:  # 10,000 copies of one topic are one topic, nothing to say
        assert result["notes"], "a trimmed article says so"


def test_hostile_files_beside_good_ones_keep_the_state_and_output_proportionate(
    hostile_folder: Path, tmp_path: Path
) -> None:
    site, out, state = tmp_path / "site", tmp_path / "out", tmp_path / "state.sqlite"
    good = write_articles(site / "_news", 20)
    shutil.copytree(hostile_folder, site / "_news" / "hostile")
    inputs = sum(p.stat().st_size for p in site.rglob("*.md"))
    run = feedpub(*build_args(site, out, state, "--json", "--max-items", "100"), cwd=tmp_path)
    assert run.returncode in (0, 3), run.stderr
    assert "Traceback" not in run.stderr
    assert good <= site_feed_urls(out)
    assert parse_every_feed(out) >= 3
    assert state.stat().st_size < 10 * inputs
    sizes = {p.relative_to(out).as_posix(): p.stat().st_size for p in out.rglob("*") if p.is_file()}
    assert max(sizes.values()) < 4 * MIB, max(sizes.items(), key=lambda kv: kv[1])
    assert sum(sizes.values()) < 10 * inputs


# --------------------------------------------------------------------------- walk

DEPTH = 1_100


def make_chain(top: Path, names: list[str], article: str) -> None:
    """Folders ``top/names[0]/names[1]/…`` with an article at the bottom, made through
    folder descriptors: the path may be longer than any system call takes."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            os.mkdir(name, dir_fd=fd)
            below = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = below
        file = os.open("bottom.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(file, article.encode())
        os.close(file)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove a tree however deep (``shutil.rmtree`` recurses: 1,100 levels are too many)."""
    parent = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        pending, moved = [path.name], 0
        while pending:
            name = pending.pop()
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
            try:
                for entry in os.listdir(fd):
                    if stat.S_ISDIR(os.stat(entry, dir_fd=fd, follow_symlinks=False).st_mode):
                        moved += 1  # up beside the top, so no path grows long
                        os.rename(entry, f".up-{moved}", src_dir_fd=fd, dst_dir_fd=parent)
                        pending.append(f".up-{moved}")
                    else:
                        os.unlink(entry, dir_fd=fd)
            finally:
                os.close(fd)
            os.rmdir(name, dir_fd=parent)
    finally:
        os.close(parent)


def plain_user_prefix() -> tuple[str, ...] | None:
    """``as_plain_user``'s prefix, or None where there is none."""
    try:
        return as_plain_user()
    except pytest.skip.Exception:
        return None


def bind_loop(folder: Path, onto: Path) -> bool:
    """Bind-mount ``folder`` on ``onto`` (inside it): a loop only root can make."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "--bind", str(folder), str(onto)], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(sys.platform != "linux", reason="folder descriptors, mount: Linux")
def test_folders_that_cannot_be_walked_are_one_warning_each(tmp_path: Path) -> None:
    site, out = tmp_path / "site", tmp_path / "out"
    news = site / "_news"
    good = write_articles(news, 10)
    good |= write_articles(news / "shallow" / "er", 2, prefix="inside")
    expected = {"deep": "nested over", "long": "bytes long"}
    make_chain(news / "deep", ["d"] * DEPTH, article_text(url="https://lost.example/deep"))
    make_chain(news / "long", ["L" * 250] * 17, article_text(url="https://lost.example/long"))
    wrap = plain_user_prefix()
    closed = news / "closed"
    if wrap is not None:
        closed.mkdir()
        (closed / "hidden.md").write_text(article_text(url="https://lost.example/closed"))
        closed.chmod(0)
        expected["closed"] = "folder skipped: Permission denied"
    (news / "loop" / "again").mkdir(parents=True)
    mounted = bind_loop(news, news / "loop" / "again")
    if mounted:
        expected["loop/again"] = "a loop"
    else:  # a symlinked folder is not followed: nothing to say
        (news / "loop" / "again").rmdir()
        (news / "loop" / "again").symlink_to("..", target_is_directory=True)
    try:
        run = feedpub(*build_args(site, out, None, "--json"), cwd=tmp_path, wrap=wrap or ())
    finally:
        if mounted:
            subprocess.run(["umount", str(news / "loop" / "again")], check=True)
        if closed.exists():
            closed.chmod(0o755)
        remove_tree(news / "deep")
        remove_tree(news / "long")
    assert run.returncode in (0, 3), run.stderr
    assert "Traceback" not in run.stderr
    warnings = warnings_of(run.stderr)
    for folder, problem in expected.items():
        naming = [w for w in warnings if f"/{folder}" in w and problem in w]
        assert len(naming) == 1, (folder, warnings)
    assert len(warnings) == len(expected), warnings
    assert json.loads(run.stdout)["published"] == len(good)
    assert site_feed_urls(out) == good


STOP_WHILE_FORKING = """
import os, signal, sys
import multiprocessing.popen_fork
from feedpub.cli import main
how, where = signal.Signals[sys.argv[1]], sys.argv[2]
sent = []
def stop_in_hook():  # handled inside a fork hook (Python code)
    if not sent:
        sent.append(True)
        os.kill(os.getpid(), how)
launch = multiprocessing.popen_fork.Popen._launch
def launch_after_stop(self, process):  # handled as the pool forks its second worker
    sent.append(True)
    if len(sent) == 2:
        os.kill(os.getpid(), how)
    return launch(self, process)
if where == "in-a-fork-hook":
    os.register_at_fork(before=stop_in_hook)
else:
    multiprocessing.popen_fork.Popen._launch = launch_after_stop
sys.exit(main(sys.argv[3:]))
"""


@needs_proc
@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("where", ["in-a-fork-hook", "between-two-forks"])
def test_a_stop_that_lands_while_a_pool_forks_its_workers_stops_the_build(
    big_site: Path, tmp_path: Path, name: str, where: str
) -> None:
    # Python writes off an exception raised inside a fork hook as "ignored" (the
    # build went on and exited 0); one raised between two forks left the pool
    # without the thread that tells workers to stop, and the build hung at exit.
    out = tmp_path / "out"
    args = [name, where, *build_args(big_site, out, None)]
    run = subprocess.run(
        [sys.executable, "-c", STOP_WHILE_FORKING, *args],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=30,  # a hang, not a measure: the build stops in well under a second
        preexec_fn=default_sigint,
    )
    assert run.returncode == 128 + signal.Signals[name], run.stderr
    assert run.stderr.startswith(f"feedpub: stopped by {name}")
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert parse_every_feed(out) == 0
