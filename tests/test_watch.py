"""`serve --watch`'s watcher: real files, real inotify events, real `feedpub build` processes."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from feedpub.cli import main
from feedpub.config import Config, load_config
from feedpub.errors import FeedpubError
from feedpub.watch import (
    MAX_CHANGED,
    BuildAhead,
    EventFeed,
    build_in_process,
    classify,
    plan_watch,
    poll_and_build,
    snapshot_config,
    watch_and_build,
)
from tests.conftest import article_text

TIMEOUT = 60  # generous: the machine is shared; no test waits this long when it passes


def write_site(root: Path, *, out_inside: bool = False, state: str = "") -> Path:
    """A site of three stories; its config. ``out_inside``: laid out as `feedpub init`
    lays it (``source = ["."]``, the output and the state file inside it)."""
    root = root.resolve()  # as the events name it
    site = root if out_inside else root / "site"
    news = site / "_news"
    news.mkdir(parents=True)
    for i in range(3):
        (news / f"2024-05-0{i + 1}-story-{i}.md").write_text(
            article_text(
                title=f"Story {i}", url=f"https://a.example/{i}", date=f"2024-05-0{i + 1}T10:00:00Z"
            )
        )
    config = root / "config.toml"
    where = (
        'source = ["."]\nout = "feeds"\n' if out_inside else 'source = ["site"]\nout = "public"\n'
    )
    where += f'state = "{state}"\n' if state else ""
    config.write_text(f'title = "Watched"\nbase_url = "https://news.example.org/feeds/"\n{where}')
    return config


def save(path: Path, text: str) -> None:
    """As an editor saves: written aside under a hidden name, then renamed over."""
    aside = path.with_name(f".{path.name}.swp")
    aside.write_text(text)
    os.replace(aside, path)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


@dataclass
class Rebuilds:
    """Each rebuild the watcher asked for (the changed files, None for a full build)."""

    config_path: Path
    builder: BuildAhead
    asked: list[frozenset[Path] | None] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    errors: list[FeedpubError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, _: Config, changed: frozenset[Path] | None) -> None:
        with self.lock:
            self.asked.append(changed)  # before building: a test may see the feed at once
        code = self.builder.run(changed)
        with self.lock:
            self.codes.append(code)
        self.builder.start()

    def finished(self) -> int:
        with self.lock:
            return len(self.codes)


@contextmanager
def watching(config_path: Path, *, all_good: bool = True) -> Iterator[Rebuilds]:
    """The site built, then ``watch_and_build`` in a thread, events flowing from before it."""
    also = (config_path,)
    config = load_config(config_path)
    feed = EventFeed(plan_watch(config, also))
    assert main(["build", "--config", str(config_path), "--quiet"]) == 0
    rebuilds = Rebuilds(config_path, BuildAhead(["--config", str(config_path), "--quiet"]))
    rebuilds.builder.start()
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_and_build,
        args=(config, lambda: load_config(config_path), rebuilds, stop),
        kwargs={"on_error": rebuilds.errors.append, "also_watch": also, "feed": feed},
    )
    watcher.start()
    try:
        yield rebuilds
    finally:
        stop.set()
        watcher.join(timeout=TIMEOUT)
        rebuilds.builder.close()
    assert not watcher.is_alive()
    if all_good:
        assert set(rebuilds.codes) <= {0}, rebuilds.codes


def feed_text(config_path: Path) -> str:
    """The site's RSS feed, or "" while there is none."""
    try:
        return (load_config(config_path).out / "rss.xml").read_text()
    except (FileNotFoundError, NotADirectoryError):
        return ""


def test_a_save_rebuilds_with_the_changed_file(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    config_path = write_site(tmp_path)
    story = tmp_path / "site" / "_news" / "2024-05-02-story-1.md"
    with watching(config_path) as rebuilds:
        save(story, article_text(title="Story one, edited", url="https://a.example/1"))
        wait_for(lambda: "Story one, edited" in feed_text(config_path), "the edit in the feed")
    assert rebuilds.asked[0] == frozenset({story})
    assert rebuilds.errors == []


def test_a_burst_of_saves_gives_few_rebuilds_and_the_last_state(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    config_path = write_site(tmp_path)
    news = tmp_path / "site" / "_news"
    stories = sorted(news.iterdir())
    with watching(config_path) as rebuilds:
        for round_ in range(30):
            for i, story in enumerate(stories):
                title = f"Story {i} take {round_}"
                save(story, article_text(title=title, url=f"https://a.example/{i}"))
        wait_for(
            lambda: all(f"Story {i} take 29" in feed_text(config_path) for i in range(3)),
            "the last take of every story in the feed",
        )
    # 90 saves in a burst: a handful of rebuilds (one, plus one per build it outlasted).
    assert 1 <= len(rebuilds.asked) <= 10, rebuilds.asked
    named = set().union(*(changed or set() for changed in rebuilds.asked))
    assert named == set(stories)


def test_a_deleted_file_leaves_the_feeds(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    config_path = write_site(tmp_path)
    story = tmp_path / "site" / "_news" / "2024-05-03-story-2.md"
    with watching(config_path) as rebuilds:
        assert "Story 2" in feed_text(config_path)
        story.unlink()
        wait_for(lambda: "Story 2" not in feed_text(config_path), "the story gone from the feed")
    assert rebuilds.asked[0] == frozenset({story})
    assert "Story 1" in feed_text(config_path)


@pytest.mark.parametrize("state", ["", "_news/state.sqlite"])
def test_the_builds_own_writes_never_trigger_a_rebuild(tmp_path: Path, state: str) -> None:
    tmp_path = tmp_path.resolve()
    # feeds/ and the state file (.feedpub/state.sqlite, or among the articles) in the source
    config_path = write_site(tmp_path, out_inside=True, state=state)
    config = load_config(config_path)
    plan = plan_watch(config, (config_path,))
    assert config.out.resolve() not in plan.deep + plan.flat
    assert (tmp_path / "_news").resolve() in plan.deep
    story = tmp_path / "_news" / "2024-05-01-story-0.md"
    with watching(config_path) as rebuilds:
        # A build of its own (the output and the state file rewritten), files dropped in
        # the output folder and in hidden folders: none of it is a change to the sources.
        (config.out / "rss.xml").unlink()
        assert build_in_process(["--config", str(config_path), "--quiet"]) == 0
        (config.out / "topics" / "notes.md").write_text(article_text(title="Not a source"))
        (tmp_path / ".scratch").mkdir()
        (tmp_path / ".scratch" / "x.md").write_text(article_text(title="Hidden"))
        (tmp_path / "_news" / ".hidden").mkdir()
        (tmp_path / "_news" / ".hidden" / "x.md").write_text(article_text(title="Hidden too"))
        # Then a real save: the first and only rebuild names it alone.
        save(story, article_text(title="Story zero, edited", url="https://a.example/0"))
        wait_for(lambda: "Story zero, edited" in feed_text(config_path), "the edit in the feed")
        assert rebuilds.asked == [frozenset({story.resolve()})]


def test_a_config_change_rebuilds_everything(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    with watching(config_path) as rebuilds:
        save(config_path, config_path.read_text().replace("Watched", "Watched, renamed"))
        wait_for(lambda: "Watched, renamed" in feed_text(config_path), "the new title")
    assert rebuilds.asked[0] is None


def test_a_folder_moved_in_rebuilds_everything_and_is_watched(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    config_path = write_site(tmp_path)
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "2024-05-07-moved.md").write_text(
        article_text(title="Moved in", url="https://a.example/moved", date="2024-05-07T10:00:00Z")
    )
    news = tmp_path / "site" / "_news"
    with watching(config_path) as rebuilds:
        batch.rename(news / "batch")  # one event, naming the folder only
        wait_for(lambda: "Moved in" in feed_text(config_path), "the moved story in the feed")
        assert rebuilds.asked[0] is None
        # The new folder is watched too.
        save(news / "batch" / "2024-05-07-moved.md", article_text(title="Moved, edited"))
        wait_for(lambda: "Moved, edited" in feed_text(config_path), "the edit in the feed")
        shutil.rmtree(news / "batch")
        wait_for(lambda: "Moved, edited" not in feed_text(config_path), "the folder's story gone")


def test_a_broken_config_is_reported_and_watching_goes_on(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    good = config_path.read_text()
    story = tmp_path / "site" / "_news" / "2024-05-02-story-1.md"
    with watching(config_path) as rebuilds:
        config_path.write_text("title = [unclosed\n")
        wait_for(lambda: bool(rebuilds.errors), "the broken config reported")
        config_path.write_text(good)
        save(story, article_text(title="After the fix", url="https://a.example/1"))
        wait_for(lambda: "After the fix" in feed_text(config_path), "a rebuild after the fix")
    assert "config" in str(rebuilds.errors[0]).lower()


def test_a_failed_build_is_reported_and_watching_goes_on(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    story = tmp_path / "site" / "_news" / "2024-05-02-story-1.md"
    out = load_config(config_path).out
    with watching(config_path, all_good=False) as rebuilds:
        shutil.rmtree(out)
        out.write_text("a file where the output folder should be")
        save(story, article_text(title="Blocked", url="https://a.example/1"))
        wait_for(lambda: rebuilds.finished() >= 1, "a rebuild")
        out.unlink()
        save(story, article_text(title="Unblocked", url="https://a.example/1"))
        wait_for(lambda: "Unblocked" in feed_text(config_path), "a good build")
    assert rebuilds.codes[0] != 0 and rebuilds.codes[-1] == 0, rebuilds.codes


def test_events_are_sorted_into_what_the_build_needs(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    config_path = write_site(tmp_path, out_inside=True)
    config = load_config(config_path)
    news, also = (tmp_path / "_news").resolve(), (config_path,)
    story = news / "2024-05-01-story-0.md"
    added, modified, deleted = 1, 2, 3

    def sort(*events: tuple[int, Path]) -> tuple[frozenset[Path], bool, bool]:
        found = classify(((c, str(p)) for c, p in events), config, also)
        return found.articles, found.full, found.config

    assert sort((modified, story)) == ({story}, False, False)
    assert sort((deleted, news / "gone.md")) == ({news / "gone.md"}, False, False)
    assert sort((modified, config.out.resolve() / "rss.xml")) == (set(), False, False)
    assert sort((added, news / ".x.md.swp"), (deleted, news / ".x.md.swp")) == (set(), False, False)
    assert sort((added, tmp_path.resolve() / ".feedpub" / "state.sqlite")) == (set(), False, False)
    assert sort((modified, tmp_path.resolve() / "README.txt")) == (set(), False, False)
    assert sort((modified, tmp_path.resolve() / "_data" / "topics.yml"))[1]
    assert sort((deleted, news / "a-folder"))[1], "a deleted path that may have been a folder"
    # vim's write test: a file created and deleted within one batch is nothing.
    assert sort((added, news / "4913"), (deleted, news / "4913")) == (set(), False, False)
    assert sort((modified, config_path.resolve())) == (set(), True, True)
    data_edit = classify([(modified, str(tmp_path / "_data" / "topics.yml"))], config, also)
    assert data_edit.full and not data_edit.folders, "rescan, but the same folders to watch"
    (news / "sub").mkdir()
    folder = classify([(added, str(news / "sub"))], config, also)
    assert folder.full and folder.folders, "a new folder is watched anew"
    many = [(modified, news / f"{i}.md") for i in range(MAX_CHANGED + 1)]
    assert sort(*many)[1], "so many events that some may have been lost"


def test_polling_rebuilds_when_an_article_changes(tmp_path: Path) -> None:
    """The fallback for systems without inotify: snapshots compared every interval."""
    config_path = write_site(tmp_path)
    config = load_config(config_path)
    since = snapshot_config(config)
    assert main(["build", "--config", str(config_path), "--quiet"]) == 0
    rebuilds = Rebuilds(config_path, BuildAhead(["--config", str(config_path), "--quiet"]))
    built = threading.Event()

    def rebuild(config: Config, changed: frozenset[Path] | None) -> None:
        rebuilds(config, changed)
        built.set()

    stop = threading.Event()
    watcher = threading.Thread(
        target=poll_and_build,
        args=(lambda: config, rebuild, stop),
        kwargs={"on_error": rebuilds.errors.append, "interval": 0.02, "since": since},
    )
    watcher.start()
    try:
        save(
            tmp_path / "site" / "_news" / "2024-05-09-new.md",
            article_text(title="Fresh", url="https://a.example/fresh", date="2024-05-09T10:00:00Z"),
        )
        assert built.wait(timeout=TIMEOUT), "no rebuild after a new article"
    finally:
        stop.set()
        watcher.join(timeout=TIMEOUT)
        rebuilds.builder.close()
    assert rebuilds.codes == [0] and rebuilds.asked == [None] and rebuilds.errors == []
    assert "Fresh" in feed_text(config_path)
    assert not watcher.is_alive()


def test_polling_reports_a_broken_config_and_keeps_watching(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    good = load_config(config_path)
    loads: list[int] = []
    errors: list[FeedpubError] = []
    seen = threading.Event()

    def load() -> Config:
        loads.append(1)
        if len(loads) > 1:
            return load_config(config_path)  # the second load reads the broken file
        return good

    def on_error(error: FeedpubError) -> None:
        errors.append(error)
        seen.set()

    stop = threading.Event()
    watcher = threading.Thread(
        target=poll_and_build,
        args=(load, lambda *_: None, stop),
        kwargs={
            "on_error": on_error,
            "interval": 0.02,
            "also_watch": (config_path,),
            "since": snapshot_config(good, (config_path,)),
        },
    )
    watcher.start()
    try:
        config_path.write_text("title = [unclosed\n")
        assert seen.wait(timeout=TIMEOUT), "a broken config went unreported"
    finally:
        stop.set()
        watcher.join(timeout=TIMEOUT)
    assert "config" in str(errors[0]).lower()


@pytest.mark.parametrize("layout", ["separate", "init"])
def test_the_plan_never_watches_the_output(tmp_path: Path, layout: str) -> None:
    config_path = write_site(tmp_path, out_inside=layout == "init")
    config = load_config(config_path)
    plan = plan_watch(config, (config_path,))
    out = config.out.resolve()
    assert not any(p == out or p.is_relative_to(out) for p in plan.deep + plan.flat)
    assert not any(out.is_relative_to(p) for p in plan.deep), "no deep watch holds the output"
    assert config_path.resolve().parent in plan.flat


def test_a_build_started_ahead_builds_when_told_and_ends_quietly_when_not(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    out = load_config(config_path).out
    story = tmp_path.resolve() / "site" / "_news" / "2024-05-02-story-1.md"
    builder = BuildAhead(["--config", str(config_path), "--quiet"])
    builder.start()
    waiting = builder.waiting
    save(story, article_text(title="Built ahead", url="https://a.example/1"))
    assert builder.run(frozenset({story})) == 0
    assert "Built ahead" in feed_text(config_path) and builder.waiting is None
    # The process was the one started ahead; the next one, told nothing, builds nothing.
    assert waiting is not None and not Path(f"/proc/{waiting}").exists()
    builder.start()
    (out / "rss.xml").unlink()
    builder.close()
    assert not (out / "rss.xml").exists() and builder.waiting is None


def test_a_build_started_ahead_that_died_is_replaced(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    builder = BuildAhead(["--config", str(config_path), "--quiet"])
    builder.start()
    assert builder.waiting is not None
    pid = builder.waiting
    os.kill(pid, signal.SIGKILL)
    stat = Path(f"/proc/{pid}/stat")
    wait_for(lambda: stat.read_text().split(") ")[1].startswith("Z"), "the process dead")
    assert builder.run() == 0  # seen dead: a new process builds
    assert builder.waiting is None
    assert "Story 2" in feed_text(config_path)
    builder.close()


def test_an_article_file_given_as_a_source_is_watched_as_one(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    story = tmp_path.resolve() / "site" / "_news" / "2024-05-02-story-1.md"
    config_path.write_text(
        f'base_url = "https://news.example.org/feeds/"\nsource = ["{story}"]\nout = "public"\n'
    )
    with watching(config_path) as rebuilds:
        (story.parent / "2024-05-01-story-0.md").unlink()  # beside it: not a source
        save(story, article_text(title="The only one", url="https://a.example/1"))
        wait_for(lambda: "The only one" in feed_text(config_path), "the edit in the feed")
    assert rebuilds.asked == [frozenset({story})]


def test_changed_articles_are_named_as_the_config_names_their_source(tmp_path: Path) -> None:
    config_path = write_site(tmp_path)
    (tmp_path / "linked").symlink_to(tmp_path / "site")
    config_path.write_text('source = ["linked"]\nout = "public"\n')
    config = load_config(config_path)
    real = (tmp_path / "site" / "_news" / "2024-05-01-story-0.md").resolve()
    found = classify([(2, str(real))], config)
    assert found.articles == {config.sources[0] / "_news" / "2024-05-01-story-0.md"}
    assert not found.full


def test_a_build_started_ahead_can_import_all_it_preloads() -> None:
    import importlib

    from feedpub.cli.buildahead import PRELOAD

    assert len(PRELOAD) == len(set(PRELOAD))
    for name in PRELOAD:  # a module renamed away would no longer be preloaded
        assert importlib.import_module(name).__name__ == name


def test_the_build_is_told_the_changed_files_in_order(tmp_path: Path) -> None:
    from feedpub.watch import changed_options

    b, a = tmp_path / "_news" / "b.md", tmp_path / "_news" / "a.md"
    assert changed_options(None) == []
    assert changed_options(frozenset({b, a})) == ["--changed", str(a), "--changed", str(b)]


def test_a_rebuild_looks_only_at_the_files_the_events_name(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    config_path = write_site(tmp_path)
    news = tmp_path / "site" / "_news"
    long_ago = (1_600_000_000, 1_600_000_000)  # not just written: no build looks twice
    for story in news.iterdir():
        os.utime(story, long_ago)
    # A change no event names: written through a hard link outside the watched folders.
    unseen = tmp_path / "elsewhere.md"
    os.link(news / "2024-05-01-story-0.md", unseen)
    with watching(config_path) as rebuilds:
        with open(unseen, "r+") as f:
            f.write(article_text(title="Unseen edit", url="https://a.example/0"))
        os.utime(unseen, (1_600_000_100, 1_600_000_100))
        save(news / "2024-05-02-story-1.md", article_text(title="Seen", url="https://a.example/1"))
        wait_for(lambda: "Seen" in feed_text(config_path), "the named edit in the feed")
        assert "Unseen edit" not in feed_text(config_path), "a file no event named was read"
        # A full build (the config changed) looks at every file.
        save(config_path, config_path.read_text().replace("Watched", "Watched again"))
        wait_for(lambda: "Unseen edit" in feed_text(config_path), "the full build's find")
    assert rebuilds.asked[0] == frozenset({news / "2024-05-02-story-1.md"})
    assert rebuilds.asked[-1] is None
