"""Every source at once: scan the files, reuse the cache, parse the rest on every core."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .cache import ArticleCache, FileStamp
from .errors import SourceError
from .load import (
    LoadedFile,
    SourceFile,
    find_sources,
    load_file,
    load_organizations,
    load_topics,
    read_bytes,
)
from .model import Article, LoadResult, Provider, Rejection, Topic

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 2000
CHUNK_FILES = 400


@dataclass(frozen=True, slots=True)
class Scan:
    """The article files of every source, stat-ed, with their taxonomy."""

    files: tuple[SourceFile, ...]
    stamps: tuple[FileStamp, ...]
    topics: tuple[Topic, ...]
    providers: tuple[Provider, ...]
    notes: tuple[str, ...]

    def fingerprint(self) -> str:
        """Changes whenever any article file is added, removed or touched."""
        digest = hashlib.sha1()
        for stamp in self.stamps:
            digest.update(f"{stamp.path}\0{stamp.size}\0{stamp.mtime_ns}\n".encode())
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
    stamps = [FileStamp(f.display, f.size, f.mtime_ns) for f in files]
    return Scan(tuple(files), tuple(stamps), tuple(topics), tuple(providers), tuple(notes))


def _load_chunk(chunk: list[SourceFile], max_bytes: int) -> list[LoadedFile]:
    return [load_file(source, max_bytes) for source in chunk]


def parse_files(files: Sequence[SourceFile], max_bytes: int, workers: int) -> list[LoadedFile]:
    """Load files in order; on several cores when there are enough of them to pay."""
    if workers < 2 or len(files) < PARALLEL_MIN_FILES:
        return _load_chunk(list(files), max_bytes)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(files[i : i + CHUNK_FILES]) for i in range(0, len(files), CHUNK_FILES)]
    # fork: workers start in milliseconds and inherit the imported loader.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results: list[LoadedFile] = []
        for loaded in pool.map(_load_chunk, chunks, [max_bytes] * len(chunks)):
            results.extend(loaded)
    return results


def load_scanned(
    scan: Scan, max_file_bytes: int, cache: ArticleCache | None = None, workers: int = 1
) -> LoadResult:
    """Load every scanned file, from the cache where it is unchanged.

    Articles that come from the cache are light (no excerpt, HTML, images or
    related stories): ``cache.hydrate`` fills in the ones to be rendered.
    """
    now_ns = time.time_ns()
    by_path = {f.display: f for f in scan.files}
    outcomes: dict[str, tuple[Article | None, Rejection | None, tuple[str, ...]]] = {}
    to_parse: list[FileStamp] = list(scan.stamps)
    if cache is not None:
        hits, to_parse, racy = cache.lookup(scan.stamps, now_ns)
        unchanged: list[FileStamp] = []
        for stamp in racy:
            # Same size, but the mtime cannot vouch for the content: the hash decides.
            try:
                data = read_bytes(by_path[stamp.path].path, stamp.path, max_file_bytes)
            except SourceError:
                to_parse.append(stamp)
                continue
            if hashlib.sha1(data).hexdigest() == hits[stamp.path].sha1:
                unchanged.append(stamp)
            else:
                to_parse.append(stamp)
        reparse = {s.path for s in to_parse}
        for path, hit in hits.items():
            if path not in reparse:
                outcomes[path] = (hit.article, hit.rejection, hit.notes)
        if unchanged:
            cache.touch(unchanged, now_ns)
    parsed = parse_files([by_path[s.path] for s in to_parse], max_file_bytes, workers)
    for stamp, result in zip(to_parse, parsed, strict=True):
        outcomes[stamp.path] = (result.article, result.rejection, result.notes)
    if cache is not None:
        cache.store(
            (
                (stamp, result.sha1, result.article, result.rejection, result.notes, result.payload)
                for stamp, result in zip(to_parse, parsed, strict=True)
            ),
            now_ns,
        )
        cache.forget_others(by_path)

    articles: list[Article] = []
    rejections: list[Rejection] = []
    notes = list(scan.notes)
    for file in scan.files:
        article, rejection, file_notes = outcomes[file.display]
        if article is not None:
            articles.append(article)
        if rejection is not None:
            rejections.append(rejection)
        notes.extend(file_notes)
    return LoadResult(
        articles=tuple(articles),
        rejections=tuple(rejections),
        topics=scan.topics,
        providers=scan.providers,
        files_read=len(scan.files),
        notes=tuple(notes),
    )


def load_sources(
    sources: Sequence[Path],
    max_file_bytes: int,
    cache: ArticleCache | None = None,
    workers: int = 1,
) -> LoadResult:
    """Load every article and taxonomy file of the given sources.

    Raises:
        SourceError: a source folder itself is missing or unreadable.
    """
    return load_scanned(scan_sources(sources), max_file_bytes, cache, workers)
