"""One writer at a time per output folder.

An advisory ``flock`` on a file in the output folder: the kernel drops it
when its process dies (SIGKILL included), so a killed run never leaves a
stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LockError, OutputError

LOCK_NAME = ".feedpub.lock"
POLL_SECONDS = 0.05


@contextmanager
def output_lock(out: Path, wait: float) -> Iterator[None]:
    """Hold the lock on ``out`` for the block, waiting up to ``wait`` seconds for it.

    Raises:
        LockError: another run still held it after ``wait`` seconds.
        OutputError: the output folder or its lock file cannot be created.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"the output folder {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as e:
        raise OutputError(f"cannot lock the output folder {out}: {e.strerror or e}") from e
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockError(
                        f"another feedpub run is building {out} (waited {wait:g} s; "
                        "use --wait SECONDS to wait longer)"
                    ) from None
                time.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing releases the lock
