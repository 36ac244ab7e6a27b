"""Find the article files of a source: listed, stat-ed and sorted, never followed out of it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import SourceError
from ..model import Provider, Topic
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
        for file in self.files:
            digest.update(f"{file.display}\0{file.size}\0{file.mtime_ns}\n".encode())
        for topic in self.topics:
            digest.update(repr(topic).encode())
        for provider in self.providers:
            digest.update(repr(provider).encode())
        return digest.hexdigest()


def scan_sources(sources: Sequence[Path]) -> Scan:
    """List and stat every article file and read the taxonomy of every source.

    Raises:
        SourceError: a source folder is missing or unreadable (fatal:
            publishing from half the sources would drop feeds).
    """
    files: list[SourceFile] = []
    topics: list[Topic] = []
    providers: list[Provider] = []
    notes: list[str] = []
    for source in sources:
        found, site_root = find_sources(source)
        files.extend(found)
        if site_root is not None:
            topics.extend(load_topics(site_root, notes))
            providers.extend(load_organizations(site_root, notes))
    return Scan(tuple(files), tuple(topics), tuple(providers), tuple(notes))


def find_sources(source: Path) -> tuple[list[SourceFile], Path | None]:
    """List the article files of a source, and its site root if it is one.

    A site root is a folder holding ``_news/``; its ``_data/`` then holds the
    taxonomy. Otherwise every ``*.md`` below the folder is an article. Hidden
    files and folders are passed over; the order is sorted, never the file
    system's.

    Raises:
        SourceError: the source does not exist or cannot be listed.
    """
    if source.is_file():
        info = source.stat()
        return [SourceFile(source, display_name(source), info.st_size, info.st_mtime_ns)], None
    if not source.is_dir():
        raise SourceError(source, "source folder does not exist")
    site_root: Path | None = None
    articles_dir = source
    if (source / "_news").is_dir():
        site_root, articles_dir = source, source / "_news"
    files: list[SourceFile] = []
    try:
        _walk(str(articles_dir), files)
    except OSError as e:
        raise SourceError(source, f"cannot list source folder: {e.strerror or e}") from e
    files.sort(key=lambda f: f.display)
    return files, site_root


def _walk(folder: str, files: list[SourceFile]) -> None:
    """Collect article files below ``folder`` with their stat (strings: pathlib is slow here)."""
    with os.scandir(folder) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            _walk(entry.path, files)
        elif entry.name.lower().endswith(ARTICLE_SUFFIXES):
            display = display_name(entry.path)
            try:
                info = entry.stat()
            except OSError:
                files.append(SourceFile(entry.path, display))  # loading will say why
                continue
            files.append(SourceFile(entry.path, display, info.st_size, info.st_mtime_ns))
