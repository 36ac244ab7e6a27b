"""Find the article files of a source: listed, stat-ed and sorted, never followed out of it."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import SourceError
from ..model import Provider, Topic
from ..progress import SCAN, SCAN_INTERVAL, Paced, Progress
from .datafiles import load_organizations, load_topics
from .read import display_name

ARTICLE_SUFFIXES = (".md", ".markdown")


class SourceFile(NamedTuple):
    """An article file to load: where it is, how to name it, and its stat when listed.

    A NamedTuple, not a dataclass: one is made per file on every run.
    """

    path: str | Path
    display: str
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True, slots=True)
class Scan:
    """The article files of every source, stat-ed, with their taxonomy."""

    files: tuple[SourceFile, ...]  # with their size and mtime: the cache's stamps
    topics: tuple[Topic, ...]
    providers: tuple[Provider, ...]
    notes: tuple[str, ...]

    def fingerprint(self) -> str:
        """Changes whenever any article file is added, removed or touched."""
        digest = hashlib.sha1()
        files = self.files
        for start in range(0, len(files), 4096):  # a few at a time: never the whole text at once
            lines = "".join(
                [f"{f.display}\0{f.size}\0{f.mtime_ns}\n" for f in files[start : start + 4096]]
            )
            digest.update(lines.encode())
        for topic in self.topics:
            digest.update(repr(topic).encode())
        for provider in self.providers:
            digest.update(repr(provider).encode())
        return digest.hexdigest()


def scan_sources(sources: Sequence[Path], progress: Progress | None = None) -> Scan:
    """List and stat every article file and read the taxonomy of every source.

    ``progress`` hears the count of files found so far (see ``feedpub.progress``).

    Raises:
        SourceError: a source folder is missing or unreadable (fatal:
            publishing from half the sources would drop feeds).
    """
    files: list[SourceFile] = []
    topics: list[Topic] = []
    providers: list[Provider] = []
    notes: list[str] = []
    paced = None if progress is None else Paced(progress, SCAN, SCAN_INTERVAL)
    for source in sources:
        if paced is not None:
            paced(len(files))
        found, site_root = find_sources(source, notes, paced, len(files))
        files.extend(found)
        if site_root is not None:
            topics.extend(load_topics(site_root, notes))
            providers.extend(load_organizations(site_root, notes))
    if paced is not None:
        paced.finish(len(files), len(files))
    return Scan(tuple(files), tuple(topics), tuple(providers), tuple(notes))


def find_sources(
    source: Path, notes: list[str], paced: Paced | None = None, found_before: int = 0
) -> tuple[list[SourceFile], Path | None]:
    """List the article files of a source, and its site root if it is one.

    A site root is a folder holding ``_news/``; its ``_data/`` then holds the
    taxonomy. Otherwise every ``*.md`` below the folder is an article. Hidden
    files and folders are passed over; the order is sorted, never the file
    system's. A part of the tree that cannot be walked is skipped with a note
    (see ``_walk``); everything else is listed. ``paced`` hears the files found
    so far, counting ``found_before`` from the sources before this one.

    Raises:
        SourceError: the source does not exist, is a file but not an article,
            or cannot be listed at all.
    """
    info = check_source(source)
    if stat.S_ISREG(info.st_mode):
        return [SourceFile(source, display_name(source), info.st_size, info.st_mtime_ns)], None
    site_root: Path | None = None
    articles_dir = source
    if (source / "_news").is_dir():
        site_root, articles_dir = source, source / "_news"
    try:
        top = os.stat(articles_dir)
        with os.scandir(articles_dir):
            pass
    except OSError as e:
        raise SourceError(source, f"cannot list source folder: {e.strerror or e}") from e
    files: list[SourceFile] = []
    _walk(str(articles_dir), (top.st_dev, top.st_ino), files, notes, paced, found_before)
    files.sort(key=lambda f: f.display)
    return files, site_root


def check_source(source: Path) -> os.stat_result:
    """The stat of a source that can be one: a folder, or a single article file.

    Raises:
        SourceError: the source does not exist, cannot be looked at, or is
            neither a folder nor an article file (``*.md``, ``*.markdown``).
    """
    try:
        info = source.stat()
    except FileNotFoundError:
        kind = "file" if source.name.lower().endswith(ARTICLE_SUFFIXES) else "folder"
        raise SourceError(source, f"source {kind} does not exist") from None
    except OSError as e:
        raise SourceError(source, f"cannot look at the source: {e.strerror or e}") from e
    if stat.S_ISDIR(info.st_mode):
        return info
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(source, "the source is not a folder (nor a file: a device or a pipe)")
    if not source.name.lower().endswith(ARTICLE_SUFFIXES):
        raise SourceError(
            source,
            "the source is a file, not a folder (a source is a folder of articles, "
            f"or one article file ending in {' or '.join(ARTICLE_SUFFIXES)})",
        )
    return info


# Deeper than this below a source, a folder is skipped: no site nests so, and a
# generated chain of folders must not cost the build.
MAX_FOLDER_DEPTH = 64
# Longer paths than this (in bytes) are skipped: PATH_MAX is 4096 on Linux.
MAX_PATH_BYTES = 4000
MAX_WALK_NOTES = 20  # then one line counts the rest
# A path this long is surely within MAX_PATH_BYTES (4 bytes a character at most).
_SHORT_PATH = MAX_PATH_BYTES // 4


def _walk(
    top: str,
    identity: tuple[int, int],
    files: list[SourceFile],
    notes: list[str],
    paced: Paced | None = None,
    found_before: int = 0,
) -> None:
    """Collect article files below ``top`` with their stat, without recursion.

    Strings, not pathlib (it is slow here). A folder that cannot be listed,
    lies deeper than MAX_FOLDER_DEPTH, has a path over MAX_PATH_BYTES, or is
    one already walked (a bind-mount loop) is skipped with a note; symlinked
    folders are never followed.
    """
    skipped: list[str] = []
    seen = {identity}
    stack = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            # Listed through a descriptor, each entry is stat-ed relative to it
            # (fstatat): the kernel does not walk the folder's path once per file.
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as e:
            skipped.append(f"{display_name(folder)}: folder skipped: {e.strerror or e}")
            continue
        try:
            with os.scandir(fd) as entries:
                others = _list_articles(entries, folder, files)
            if paced is not None:
                paced(found_before + len(files))
            # Folders and everything unusual in name order, so that the walk (and
            # which of two bind-mounted copies counts as the loop) never depends on
            # the file system's order; plain articles need no order: they are sorted last.
            others.sort(key=lambda e: e.name)
            below: list[str] = []
            prefix = folder if folder.endswith(os.sep) else folder + os.sep
            for entry in others:
                path = prefix + entry.name
                problem = _entry_problem(entry, path, depth, seen, below, files)
                if problem:
                    skipped.append(f"{display_name(path)}: {problem}")
        except OSError as e:
            skipped.append(f"{display_name(folder)}: folder skipped: {e.strerror or e}")
            continue
        finally:
            os.close(fd)
        stack.extend((path, depth + 1) for path in reversed(below))
    notes.extend(skipped[:MAX_WALK_NOTES])
    if len(skipped) > MAX_WALK_NOTES:
        notes.append(f"and {len(skipped) - MAX_WALK_NOTES:,} more parts of the sources skipped")


def _list_articles(
    entries: Iterable[os.DirEntry[str]], folder: str, files: list[SourceFile]
) -> list[os.DirEntry[str]]:
    """File the plain article files of one listing (the common case, kept cheap: a
    scan of 100,000 files runs on every cron build); return every other entry."""
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    others: list[os.DirEntry[str]] = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        path = prefix + name
        try:
            plain = (
                len(path) <= _SHORT_PATH
                and name.lower().endswith(ARTICLE_SUFFIXES)
                and not entry.is_dir(follow_symlinks=False)
            )
        except OSError:
            plain = False
        if not plain:
            others.append(entry)
            continue
        try:
            info = entry.stat()
        except OSError:
            files.append(SourceFile(path, display_name(path)))  # loading will say why
            continue
        files.append(SourceFile(path, display_name(path), info.st_size, info.st_mtime_ns))
    return others


def _entry_problem(
    entry: os.DirEntry[str],
    path: str,
    depth: int,
    seen: set[tuple[int, int]],
    below: list[str],
    files: list[SourceFile],
) -> str | None:
    """File one directory entry at ``path`` (a folder to walk, or an article); why it is
    skipped, if it is."""
    # A character is at most 4 bytes in the file system's encoding: only a path
    # longer than a quarter of the limit needs encoding to be measured.
    if len(path) > MAX_PATH_BYTES // 4 and len(os.fsencode(path)) > MAX_PATH_BYTES:
        return f"skipped: the path is over {MAX_PATH_BYTES:,} bytes long"
    try:
        is_folder = entry.is_dir(follow_symlinks=False)
    except OSError as e:
        return f"skipped: {e.strerror or e}"
    if is_folder:
        if depth + 1 > MAX_FOLDER_DEPTH:
            return f"folder skipped: nested over {MAX_FOLDER_DEPTH} levels below the source"
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as e:
            return f"folder skipped: {e.strerror or e}"
        if (info.st_dev, info.st_ino) in seen:
            return "folder skipped: it is a folder already walked (a loop)"
        seen.add((info.st_dev, info.st_ino))
        below.append(path)
    elif entry.name.lower().endswith(ARTICLE_SUFFIXES):
        display = display_name(path)
        try:
            info = entry.stat()
        except OSError:
            files.append(SourceFile(path, display))  # loading will say why
            return None
        files.append(SourceFile(path, display, info.st_size, info.st_mtime_ns))
    return None
