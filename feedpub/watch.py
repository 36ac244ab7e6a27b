"""Rebuild when the sources change: ``feedpub serve --watch``.

Polling modification times once a second is enough for an editor's save and
needs no platform-specific API. The output folder (and hidden folders, such
as the state file's) are never watched, so a build cannot trigger itself.

Each rebuild runs in a fresh ``feedpub build`` process (``build_in_process``).
The watcher is a thread beside the preview server, and ``build`` parses with a
pool of forked processes: forking a process that runs other threads copies
their locks in whatever state they are in, and the child can hang on one. A
new interpreter (fork followed at once by exec) shares nothing, returns a big
build's memory to the system when it ends, and reads the config afresh; it
costs a fraction of a second of start-up per rebuild.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .config import Config
from .errors import FeedpubError

Snapshot = frozenset[tuple[str, int, int]]


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
    """What ``watch_and_build`` compares: the sources of ``config`` and ``also_watch``."""
    return snapshot_sources((*config.sources, *also_watch), skip=config.out)


def build_in_process(options: Sequence[str]) -> int:
    """Run ``feedpub build OPTIONS`` in a new Python process and return its exit code.

    Its messages go to this process's stderr, as if typed on the command line.
    """
    command = [sys.executable, "-m", "feedpub", "build", *options]
    return subprocess.run(command, stdin=subprocess.DEVNULL, check=False).returncode


def watch_and_build(
    load: Callable[[], Config],
    rebuild: Callable[[Config], None],
    stop: threading.Event,
    *,
    on_error: Callable[[FeedpubError], None],
    also_watch: Iterable[Path] = (),
    since: Snapshot | None = None,
    interval: float = 1.0,
) -> None:
    """Call ``rebuild`` whenever a source file (or a file in ``also_watch``) changes.

    Runs until ``stop`` is set. ``load`` gives the config afresh for each
    change, so edits to the config file apply; a config that does not load goes
    to ``on_error`` and the last good one is kept. ``since`` is the snapshot
    (``snapshot_config``) the current output was built from, taken before that
    build, so a change made while it ran is not missed; without it the first
    poll only takes stock.
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
        rebuild(config)
