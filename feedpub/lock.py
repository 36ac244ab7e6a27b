"""One writer at a time per output folder, and no lock that outlives its build.

An advisory ``flock`` on a file in the output folder: the kernel drops it
when the last descriptor of it is closed, so a killed run releases it. A
forked worker process would inherit that descriptor and, orphaned by a killed
build, keep the folder locked for every later run; so every process forked
while a lock is held drops its copy at once, ignores Ctrl-C (its parent
answers it) and is killed when its parent dies (``PR_SET_PDEATHSIG`` on
Linux; elsewhere a watchdog thread that exits when the parent is gone).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LockError, OutputError

LOCK_NAME = ".feedpub.lock"
POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
# Descriptors of the locks this process holds; a forked child closes them.
_held: set[int] = set()


def _after_fork_in_child() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held by ``forking``
    if not _held:
        return  # not forked by a build
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(os.getppid())


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes  # here, in a forked worker: the parent's cron runs need not load it

        # The running program's own symbols, libc's among them: find_library("c")
        # would run `ldconfig -p` in every worker (5 ms or more each).
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the call: too late to be told
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="feedpub-parent-watch").start()


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def forking() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP while the block forks worker processes.

    Python runs a signal's handler at the next instruction; if that falls in a
    fork hook (``logging`` has some), the exception it raises is written off as
    "ignored" and the stop is lost: the build would finish as if never stopped.
    Held here, the signal acts as the block ends. Only in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def output_lock(
    out: Path, wait: float, on_wait: Callable[[float], None] | None = None
) -> Iterator[None]:
    """Hold the lock on ``out`` for the block, waiting up to ``wait`` seconds for it.

    ``on_wait`` is told once, with ``wait``, when another run holds the lock and
    this one starts waiting for it.

    Raises:
        LockError: another run still held it after ``wait`` seconds.
        OutputError: the output folder or its lock file cannot be created.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"the output folder {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the output folder {out}: {e.strerror or e}") from e
    try:
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise OutputError(f"cannot create the lock file in {out}: {e.strerror or e}") from e
    try:
        _acquire(fd, out, wait, on_wait)
        _held.add(fd)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # closing releases the lock


def _acquire(fd: int, out: Path, wait: float, on_wait: Callable[[float], None] | None) -> None:
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if on_wait is not None and not told and wait > 0:
                on_wait(wait)
                told = True
            if time.monotonic() >= deadline:
                raise LockError(
                    f"another feedpub run is building {out} (waited {wait:g} s; "
                    "use --wait SECONDS to wait longer)"
                ) from None
            time.sleep(POLL_SECONDS)
