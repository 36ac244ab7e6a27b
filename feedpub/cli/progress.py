"""A build's progress on a terminal: one line on stderr, redrawn in place.

Drawn only when stderr is a terminal and ``--quiet`` is not given (see
``step_line``): piped into a log or a cron mail, a build prints its summary
and nothing else. It looks like the link checker's line (cli/links.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ..progress import GROUP, PARSE, RENDER, SCAN, WRITE

REDRAW_SECONDS = 0.1  # at most ten redraws a second: a terminal is slower than a build
BAR_WIDTH = 24


def step_line(quiet: bool) -> StepLine | None:
    """A progress line on stderr if it is a terminal and the user did not ask for quiet."""
    return StepLine() if sys.stderr.isatty() and not quiet else None


def pluralize(count: int, singular: str, plural: str | None = None) -> str:
    """``1 file``, ``2 files``, ``0 files``: a count and its noun, agreeing."""
    word = singular if count == 1 else (plural or singular + "s")
    return f"{count} {word}"


class StepLine:
    """Draws a build's ``progress(step, done, total)`` calls on one line.

    The first call draws at once; later ones at most every ``REDRAW_SECONDS``
    (a call in between only notes the step's start, for its rate).
    """

    def __init__(
        self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._drawn_at: float | None = None
        self._step = ""
        self._step_started = 0.0
        self._shown = False

    def __call__(self, step: str, done: int, total: int) -> None:
        now = self._clock()
        if step != self._step:
            self._step, self._step_started = step, now
        if self._drawn_at is not None and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        text = describe_step(step, done, total, now - self._step_started)
        self._stream.write(f"\r{text}\033[K")
        self._stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the line, so that what is printed next starts on a clean one."""
        if self._shown:
            self._stream.write("\r\033[K")
            self._stream.flush()
            self._shown = False


def describe_step(step: str, done: int, total: int, seconds: float) -> str:
    """One progress line's text, without the carriage return."""
    if step == SCAN:
        return f"scanning sources: {pluralize(done, 'file')} found"
    if step == GROUP:
        return f"grouping {pluralize(total, 'article')}"
    if step == WRITE:
        return f"writing {pluralize(total, 'file')}"
    label = {PARSE: "parsing files", RENDER: "rendering feeds"}.get(step, step)
    filled = BAR_WIDTH * min(done, total) // max(total, 1)
    line = f"{label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"
    if done > 0 and seconds > 0:
        rate = done / seconds
        line += f", {rate:.0f}/s, {max(total - done, 0) / rate:.0f} s left"
    return line
