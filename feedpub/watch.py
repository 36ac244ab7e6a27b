"""Rebuild when the sources change: ``feedpub serve --watch``.

Polling modification times once a second is enough for an editor's save and
needs no platform-specific API. The output folder (and hidden folders, such
as the state file's) are never watched, so a build cannot trigger itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from .config import Config
from .errors import FeedpubError
from .publish import build
from .report import BuildReport

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


def watch_and_build(
    load: Callable[[], Config],
    on_result: Callable[[BuildReport | FeedpubError], None],
    stop: threading.Event,
    *,
    clock: Callable[[], datetime],
    also_watch: Iterable[Path] = (),
    since: Snapshot | None = None,
    interval: float = 1.0,
) -> None:
    """Build whenever a source file (or a file in ``also_watch``) changes, until ``stop`` is set.

    ``load`` gives the config afresh for each build, so edits to the config
    file apply. Each build's report, or the FeedpubError that stopped it, goes
    to ``on_result``; watching goes on either way. ``since`` is the snapshot
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
            on_result(e)
            continue
        # Taken before building, so a change made during the build starts another one.
        before = snapshot_config(config, extra)
        try:
            # This runs in a thread beside the server: one process, no pool, since
            # forking a threaded process can deadlock the child on a held lock.
            on_result(build(config, clock(), workers=1))
        except FeedpubError as e:
            on_result(e)
