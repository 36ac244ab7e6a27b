"""Writing the output folder: atomic, minimal, and never outside it.

Each file is written to a temporary file in its own folder and renamed into
place, so a reader (or a run killed mid-write) only ever sees the old
complete file or the new one. A file whose bytes did not change is left
alone, so its mtime, and HTTP caches keyed on it, hold. A manifest lists
what feedpub wrote, so files for vanished topics are removed and nothing
else ever is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import OutputError

MANIFEST = ".feedpub-manifest.json"
TEMP_PREFIX = ".feedpub-tmp-"  # a run killed mid-write leaves these; the next one removes them
_ARCHIVE_PAGE = re.compile(r"(?:^|/)archive/[0-9]+$")  # RFC 5005 pages: not subscribed to


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def _check_relative(relpath: str) -> PurePosixPath:
    path = PurePosixPath(relpath)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise OutputError(
            f"refusing to write {relpath!r}: not a plain path inside the output folder"
        )
    return path


def _real_folder(root: Path, relative: PurePosixPath) -> Path:
    """Create the folders of ``relative`` below ``root``; a symlink on the way is replaced.

    Following a symlink could write outside the output folder, so a link
    found where a folder belongs is removed and a real folder made.
    """
    folder = root
    for part in relative.parts[:-1]:
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            folder.mkdir()
            continue
        if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
            folder.unlink()
            folder.mkdir()
    return folder


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
        return False
    with open(path, "rb") as f:
        return f.read() == data


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # replaces a symlink itself, never writes through it
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_outputs(out: Path, files: Mapping[str, bytes], keep: Iterable[str] = ()) -> WriteResult:
    """Bring ``out`` to hold exactly ``files`` and ``keep`` (plus anything feedpub never wrote).

    ``keep`` names files of the last build known to be current: left as they are.

    Raises:
        OutputError: the output folder cannot be created or written.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        root = out.resolve()
        previous = _read_manifest(root)
        written: list[str] = []
        unchanged: list[str] = []
        for relpath in sorted(files):
            relative = _check_relative(relpath)
            folder = _real_folder(root, relative)
            target = folder / relative.name
            data = files[relpath]
            if _same_bytes(target, data):
                unchanged.append(relpath)
                continue
            write_atomic(target, data)
            written.append(relpath)
        _remove_leftover_temps(root)
        current = set(files) | set(keep)
        removed = _remove_stale(root, previous - current)
        manifest = json.dumps(sorted(current), indent=0).encode("utf-8")
        if not _same_bytes(root / MANIFEST, manifest):
            write_atomic(root / MANIFEST, manifest)
    except OSError as e:
        raise OutputError(f"cannot write the output folder {out}: {e.strerror or e}") from e
    return WriteResult(tuple(written), tuple(unchanged), tuple(removed))


def _remove_leftover_temps(root: Path) -> None:
    for folder, _subfolders, filenames in os.walk(root):  # never follows symlinked folders
        for name in filenames:
            if name.startswith(TEMP_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, name))


def _read_manifest(root: Path) -> set[str]:
    try:
        names = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return set()
    if not isinstance(names, list):
        return set()
    return {n for n in names if isinstance(n, str)}


def _remove_stale(root: Path, stale: set[str]) -> list[str]:
    removed: list[str] = []
    for relpath in sorted(stale):
        try:
            relative = _check_relative(relpath)
        except OutputError:
            continue  # a tampered manifest never removes anything outside
        target = root.joinpath(*relative.parts)
        if target.parent.resolve() != target.parent:
            continue  # a symlinked folder on the way: unlinking would reach outside
        try:
            os.unlink(target)
        except FileNotFoundError:
            continue
        removed.append(relpath)
        for parent in target.parents:
            if parent == root or not parent.is_relative_to(root):
                break
            try:
                parent.rmdir()  # only succeeds once the folder is empty
            except OSError:
                break
    return removed


def outputs_present(out: Path) -> int | None:
    """How many files the last build wrote, if every one of them is still there."""
    try:
        names = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(names, list) or not all(
        isinstance(n, str) and os.path.isfile(out / n) for n in names
    ):
        return None
    return len(names)


def last_feed_folders(out: Path) -> set[str]:
    """The folders of the feeds the last build wrote (archive pages aside), from its manifest."""
    folders = set()
    for name in _read_manifest(out):
        folder, _, file = name.rpartition("/")
        if file == "rss.xml" and not _ARCHIVE_PAGE.search(folder):
            folders.add(folder)
    return folders


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, so writing the output
    folder is never stopped halfway; a held signal acts as soon as it ends.

    Only in the main thread (elsewhere signals go to the main thread anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
