"""Rebuild when the sources change: ``feedpub serve --watch``.

The kernel says what changed (inotify, through ``watchfiles``): a save costs
no scan of the sources, so a rebuild can start within a few milliseconds of it
at any corpus size, and each rebuild is told which article files changed
(``build --changed``) instead of rescanning every file. What is watched:

- each source folder, recursively; when the output folder lies inside a source
  (``source = ["."]``, ``out = "feeds"``), the folders on the way to it are
  watched one level deep and their other subfolders recursively, so the
  output's own writes raise no event at all;
- the config file, through its folder (one level deep: an editor replaces the
  file, and a watch on the old file would go deaf).

Hidden files and folders (the state file's ``.feedpub/``, editors' swap files)
and the output folder are never taken as changes, so a build cannot trigger
itself. Events closer together than ``STEP_MS`` are one batch (an editor's
write-aside-and-rename, a ``git checkout``), and batches that arrive during a
rebuild are merged into the next one.

A plain full build (no ``--changed``) runs whenever events may have been
missed or do not name every changed article: the config file or ``_data/``
changed, a folder appeared, vanished or moved (inotify names the folder, not
the files in it), a batch names more than ``MAX_CHANGED`` paths (the kernel's
event queue may have overflowed: watchfiles drops the overflow notice, which
names no path), or the watcher failed. The watchers are started anew before
such a build when folders may have come or gone, when the config now names
other folders, or when one failed; so nothing that happens during the build
goes unseen.

Where inotify cannot be used (no watches left, an unsupported file system), the
watcher says so once and polls the sources once a second instead
(``poll_and_build``): a full snapshot of modification times per poll.

Each rebuild runs in a fresh ``feedpub build`` process (``build_in_process``).
The watcher is a thread beside the preview server, and ``build`` parses with a
pool of forked processes: forking a process that runs other threads copies
their locks in whatever state they are in, and the child can hang on one. A
new interpreter (fork followed at once by exec) shares nothing, returns a big
build's memory to the system when it ends, and reads the config afresh. Its
start-up and imports (about 0.2 s) are paid before it is needed: ``BuildAhead``
starts the next build's process as soon as the last one ends.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .errors import FeedpubError, ServeError
from .sources.discover import ARTICLE_SUFFIXES

if TYPE_CHECKING:
    from watchfiles._rust_notify import RustNotify

Snapshot = frozenset[tuple[str, int, int]]
# A rebuild is told the changed article files, or None: rescan everything.
Rebuild = Callable[[Config, frozenset[Path] | None], None]

STEP_MS = 20  # a batch ends when a check this often finds no new event
DEBOUNCE_MS = 1_600  # and after this long in any case, so a stream of saves still builds
MAX_CHANGED = 1_000  # a batch naming more paths gets a full build (see the module docstring)
_ADDED, _DELETED = 1, 3  # watchfiles.Change values


@dataclass(frozen=True, slots=True)
class WatchPlan:
    """The folders to watch: ``deep`` recursively, ``flat`` one level deep."""

    deep: tuple[Path, ...]
    flat: tuple[Path, ...]


def plan_watch(config: Config, also_watch: Iterable[Path] = ()) -> WatchPlan:
    """Where events must come from to see every change to the sources and ``also_watch``.

    The output folder and hidden folders are left out wherever a source holds them.
    """
    out = config.out.resolve()
    deep: list[Path] = []
    flat: list[Path] = []
    for source in (s.resolve() for s in config.sources):
        if source.is_file():
            flat.append(source.parent)
        elif source.is_dir():
            _plan_folder(source, out, deep, flat)
        else:  # missing: watch for it to appear
            flat.append(next(p for p in source.parents if p.is_dir()))
    flat += (path.resolve().parent for path in also_watch)
    return WatchPlan(tuple(dict.fromkeys(deep)), tuple(dict.fromkeys(flat)))


def _plan_folder(folder: Path, out: Path, deep: list[Path], flat: list[Path]) -> None:
    if folder == out:
        return
    if not out.is_relative_to(folder):
        deep.append(folder)
        return
    flat.append(folder)  # on the way to the output folder: its subfolders one by one
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return  # unreadable: the build reports it
    for entry in entries:
        if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
            _plan_folder(Path(entry.path), out, deep, flat)


@dataclass(frozen=True, slots=True)
class Changes:
    """What a batch of events means for the build."""

    articles: frozenset[Path]  # article files added, modified or deleted
    full: bool  # something no list of article files describes: rescan everything
    config: bool  # the config file changed: load it again
    folders: bool  # a folder came, went or moved: watch anew


def classify(
    events: Iterable[tuple[int, str]], config: Config, also_watch: Iterable[Path] = ()
) -> Changes:
    """Sort file events (``watchfiles`` change codes and paths) into what the build needs.

    Article paths are spelled as the config spells their source (events name
    real paths), so the build knows them as the files it lists.
    """
    events = set(events)
    configs = {path.resolve() for path in also_watch}
    sources = [(source.resolve(), source) for source in config.sources]
    out, state = config.out.resolve(), config.state.resolve() if config.state else None
    added = {path for change, path in events if change == _ADDED}
    articles: set[Path] = set()
    full = reload = folders = False
    for change, name in events:
        path = Path(name)
        if path in configs:
            reload = full = True
            continue
        if path.is_relative_to(out) or (
            state is not None and path.parent == state.parent and path.name.startswith(state.name)
        ):
            continue  # the build's own writes (the state file's -wal, -shm, moved-aside copies)
        match _meaning(path, change, sources, came_and_went=name in added):
            case ("article", spelled):
                articles.add(spelled)
            case ("full", _):
                full = True
            case ("folder", _):
                full = folders = True
    if len(articles) > MAX_CHANGED:
        full = True
    return Changes(frozenset(articles), full, reload, folders)


def _meaning(
    path: Path, change: int, sources: list[tuple[Path, Path]], *, came_and_went: bool
) -> tuple[str, Path]:
    """The meaning of one event's path, and the path as the config spells it.

    "article", "full" (a full build), "folder" (a full build and a new watch)
    or "" (nothing the build reads). ``sources``: each source's real path and
    spelling.
    """
    for source, spelled in sources:
        if path == source:  # an article file given as a source, or a folder replaced
            return (
                "article" if path.name.lower().endswith(ARTICLE_SUFFIXES) else "folder"
            ), spelled
        if not path.is_relative_to(source):
            continue
        parts = path.relative_to(source).parts
        if any(part.startswith(".") for part in parts):
            break
        if (source / "_news").is_dir() or parts[0] == "_news":  # a site root
            if len(parts) == 1 and parts[0] in ("_news", "_data"):
                return "folder", path
            if parts[0] == "_data":
                return "full", path
            if parts[0] != "_news":
                break
        if path.name.lower().endswith(ARTICLE_SUFFIXES) and not path.is_dir():
            return "article", spelled.joinpath(*parts)
        if path.is_dir():
            return "folder", path  # a folder came or moved in: no events name its files
        if change == _DELETED and not path.exists() and not came_and_went:
            return "folder", path  # perhaps a folder, moved or deleted with its articles
        break
    return "", path


class EventFeed:
    """Threads that wait for file events under a ``WatchPlan`` and queue them in batches.

    A watcher that fails queues ``None`` (events may be lost: build in full and
    start a new feed). ``close`` stops the threads.

    Raises (from the constructor):
        ServeError: file events cannot be had here (inotify failed to start).
    """

    def __init__(self, plan: WatchPlan) -> None:
        from watchfiles._rust_notify import RustNotify

        self.plan = plan
        self.batches: queue.Queue[set[tuple[int, str]] | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        notifiers: list[RustNotify] = []
        # RustNotify is watchfiles' own engine under its watch() generator, used
        # directly: the generator starts watching only when first iterated (after
        # the first build, too late), and its timeout path drops events.
        for paths, deep in ((plan.deep, True), (plan.flat, False)):
            existing = [str(path) for path in paths if path.exists()]
            if not existing:
                continue
            try:
                notifiers.append(RustNotify(existing, False, False, 0, deep, True))
            except (OSError, RuntimeError) as e:
                for notifier in notifiers:
                    notifier.close()
                raise ServeError(f"cannot watch the sources for file events: {e}") from e
        for notifier in notifiers:
            thread = threading.Thread(
                target=self._pump, args=(notifier,), daemon=True, name="feedpub-watch-events"
            )
            thread.start()
            self._threads.append(thread)

    def _pump(self, notifier: RustNotify) -> None:
        with notifier:
            while True:
                try:
                    found = notifier.watch(DEBOUNCE_MS, STEP_MS, 0, self._stop)
                except RuntimeError:  # the watcher failed (a watched folder went away)
                    self.batches.put(None)
                    return
                if isinstance(found, str):  # "stop" or "signal"
                    return
                self.batches.put(found)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def watch_and_build(
    config: Config,
    load: Callable[[], Config],
    rebuild: Rebuild,
    stop: threading.Event,
    *,
    on_error: Callable[[FeedpubError], None],
    also_watch: Iterable[Path] = (),
    feed: EventFeed | None = None,
) -> None:
    """Call ``rebuild`` whenever a source file (or a file in ``also_watch``) changes.

    Runs until ``stop`` is set. ``rebuild`` gets the config (``config`` until
    the config file changes) and the article files that changed, or ``None``
    when the whole sources must be rescanned (see the module docstring).
    ``load`` gives the config afresh when a file of
    ``also_watch`` changes; a config that does not load goes to ``on_error``
    and the last good one is kept. ``feed`` is an ``EventFeed`` started before
    the current output was built, so a change made while it ran is not missed;
    without it, watching starts now.

    Raises:
        ServeError: file events cannot be had here (only when ``feed`` is None).
    """
    extra = tuple(also_watch)
    if feed is None:
        feed = EventFeed(plan_watch(config, extra))
    try:
        while not stop.is_set():
            try:
                first = feed.batches.get(timeout=0.1)
            except queue.Empty:
                continue
            batches = [first]
            while not feed.batches.empty():  # everything queued during the last build
                batches.append(feed.batches.get_nowait())
            lost = any(batch is None for batch in batches)
            events = set().union(*(batch for batch in batches if batch is not None))
            changes = classify(events, config, extra)
            if changes.config:
                try:
                    config = load()
                except FeedpubError as e:  # a half-edited config: report it, keep the last
                    on_error(e)
                    continue
            plan = plan_watch(config, extra)
            if lost or changes.folders or plan != feed.plan:
                # Watch anew before the build, so that nothing it misses goes unseen.
                feed.close()
                try:
                    feed = EventFeed(plan)
                except ServeError as e:  # no inotify watches left, say: poll from now on
                    on_error(e)
                    since = snapshot_config(config, extra)
                    rebuild(config, None)
                    poll_and_build(
                        load, rebuild, stop, on_error=on_error, also_watch=extra, since=since
                    )
                    return
            if lost or changes.full:
                rebuild(config, None)
            elif changes.articles:
                rebuild(config, changes.articles)
    finally:
        feed.close()  # a second close (after a failed restart) does nothing


def changed_options(changed: frozenset[Path] | None) -> list[str]:
    """The ``feedpub build`` options that name ``changed`` (none: a full listing)."""
    if changed is None:
        return []
    return [option for path in sorted(changed) for option in ("--changed", str(path))]


def build_in_process(options: Sequence[str], changed: frozenset[Path] | None = None) -> int:
    """Run ``feedpub build OPTIONS`` in a new Python process and return its exit code.

    With ``changed``, the build is told that only those files changed.
    Its messages go to this process's stderr, as if typed on the command line.
    """
    command = [sys.executable, "-m", "feedpub", "build", *options, *changed_options(changed)]
    return subprocess.run(command, stdin=subprocess.DEVNULL, check=False).returncode


class BuildAhead:
    """``build_in_process``, with each process started one build ahead.

    ``start`` (called when the last build has ended) starts the next build's
    process (``feedpub.cli.buildahead``), which imports feedpub and its
    libraries and waits: a rebuild then costs no interpreter start-up and no
    imports. It is still a new process per build, reading the config when the
    build starts. ``close`` ends the waiting one.
    """

    def __init__(self, options: Sequence[str]) -> None:
        self._options = list(options)
        self._next: subprocess.Popen[bytes] | None = None

    @property
    def waiting(self) -> int | None:
        """The process id of the next build's process, if one is started."""
        return self._next.pid if self._next is not None else None

    def start(self) -> None:
        """Start the next build's process, unless one is waiting."""
        if self._next is not None and self._next.poll() is not None:
            if self._next.stdin is not None:  # died waiting (killed): its pipe goes too
                self._next.stdin.close()
            self._next = None
        if self._next is None:
            self._next = subprocess.Popen(
                [sys.executable, "-m", "feedpub.cli.buildahead"], stdin=subprocess.PIPE
            )

    def run(self, changed: frozenset[Path] | None = None) -> int:
        """Build (told ``changed``, see ``changed_options``); return the exit code."""
        self.start()
        process, self._next = self._next, None
        assert process is not None and process.stdin is not None
        options = [*self._options, *changed_options(changed)]
        try:
            with process.stdin:
                process.stdin.write(json.dumps(options).encode() + b"\n")
        except BrokenPipeError:  # it died waiting (killed): build the slow way
            process.wait()
            return build_in_process(self._options, changed)
        return process.wait()

    def close(self) -> None:
        if self._next is not None and self._next.stdin is not None:
            self._next.stdin.close()  # end of input: it exits without building
            self._next.wait()
            self._next = None


# Polling: only where file events cannot be had.


def snapshot_sources(paths: Iterable[Path], skip: Path | None = None) -> Snapshot:
    """Every file below ``paths`` with its mtime and size, hidden files and ``skip`` left out."""
    seen: set[tuple[str, int, int]] = set()
    skip_real = skip.resolve() if skip is not None else None
    for top in paths:
        if top.is_file():
            _add(seen, top)
            continue
        for folder, dirs, names in os.walk(top):
            here = Path(folder)
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and (here / d).resolve() != skip_real
            )
            for name in names:
                if not name.startswith("."):
                    _add(seen, here / name)
    return frozenset(seen)


def _add(seen: set[tuple[str, int, int]], path: Path) -> None:
    try:
        info = path.stat()
    except OSError:
        return  # vanished between listing and stat: the next poll sees the change
    seen.add((str(path), info.st_mtime_ns, info.st_size))


def snapshot_config(config: Config, also_watch: Iterable[Path] = ()) -> Snapshot:
    """What ``poll_and_build`` compares: the sources of ``config`` and ``also_watch``."""
    return snapshot_sources((*config.sources, *also_watch), skip=config.out)


def poll_and_build(
    load: Callable[[], Config],
    rebuild: Rebuild,
    stop: threading.Event,
    *,
    on_error: Callable[[FeedpubError], None],
    also_watch: Iterable[Path] = (),
    since: Snapshot | None = None,
    interval: float = 1.0,
) -> None:
    """``watch_and_build`` by polling: compare a snapshot of the sources every ``interval``.

    Every rebuild is a full one. ``since`` is the snapshot (``snapshot_config``)
    the current output was built from, taken before that build, so a change
    made while it ran is not missed; without it the first poll only takes stock.
    """
    extra = tuple(also_watch)
    config = load()
    before = since if since is not None else snapshot_config(config, extra)
    while not stop.wait(interval):
        now = snapshot_config(config, extra)
        if now == before:
            continue
        before = now
        try:
            config = load()
        except FeedpubError as e:  # a half-edited config: report it, keep the last good one
            on_error(e)
            continue
        # Taken before building, so a change made during the build starts another one.
        before = snapshot_config(config, extra)
        rebuild(config, None)
