"""What a build tells of its long steps while they run: the ``Progress`` callback.

The library never prints: ``build(progress=...)`` hands the callback to each
stage, and the command line draws it on a terminal. Each call is
``progress(step, done, total)``:

    step     done                    total
    scan     files found so far      0 while scanning; the count on the last call
    parse    files parsed            files to parse (the others came from the cache)
    group    0                       articles to select and group
    render   feeds rendered          feeds to render (the others were unchanged)
    write    0                       files to write or compare

Stages call it as work arrives (a chunk of files parsed, a feed or a batch of
feeds rendered), the scan at most every ``SCAN_INTERVAL`` seconds; a build given
no callback pays for none of it. The callback runs in the building process,
never in a worker, and must be quick: it decides itself how often to redraw.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Progress = Callable[[str, int, int], None]

SCAN = "scan"
PARSE = "parse"
GROUP = "group"
RENDER = "render"
WRITE = "write"

# A scan of a large tree is one tight loop: it looks at the clock, not at every file.
SCAN_INTERVAL = 0.25


class Paced:
    """One step's progress, passed on at most once per ``interval`` seconds (the first at once)."""

    __slots__ = ("_due", "_interval", "_progress", "_step")

    def __init__(self, progress: Progress, step: str, interval: float) -> None:
        self._progress = progress
        self._step = step
        self._interval = interval
        self._due = 0.0

    def __call__(self, done: int, total: int = 0) -> None:
        now = time.monotonic()
        if now >= self._due:
            self._due = now + self._interval
            self._progress(self._step, done, total)

    def finish(self, done: int, total: int) -> None:
        """The step's last call, whatever the clock says."""
        self._progress(self._step, done, total)
