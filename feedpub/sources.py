"""Every source at once: scan the files, reuse the cache, parse the rest on every core."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .cache import ArticleCache, Row, RowReader, cache_fingerprint, row_of
from .errors import SourceError
from .load import (
    SourceFile,
    find_sources,
    load_file,
    load_organizations,
    load_topics,
    read_bytes,
)
from .model import Article, LoadResult, Provider, Rejection, Topic
from .state import State

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 2000
CHUNK_FILES = 400


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


def _parse_chunk(chunk: list[SourceFile], max_bytes: int, now_ns: int) -> list[Row]:
    fingerprint = cache_fingerprint(max_bytes)
    rows = []
    for source in chunk:
        r = load_file(source, max_bytes)
        rows.append(
            row_of(source, r.sha1, r.article, r.rejection, r.notes, r.payload, now_ns, fingerprint)
        )
    return rows


def parse_files(
    files: Sequence[SourceFile], max_bytes: int, workers: int, now_ns: int
) -> Iterator[list[Row]]:
    """Parse files into cache rows, chunk by chunk in order; on every core when it pays.

    Workers send back rows of plain values, not Article objects: pickling
    dataclasses across processes would cost more than the parsing saves. The
    caller stores each chunk as it arrives, while the workers go on parsing.
    """
    if workers < 2 or len(files) < PARALLEL_MIN_FILES:
        yield _parse_chunk(list(files), max_bytes, now_ns)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(files[i : i + CHUNK_FILES]) for i in range(0, len(files), CHUNK_FILES)]
    # fork: workers start in milliseconds and inherit the imported loader.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_parse_chunk, chunks, [max_bytes] * len(chunks), [now_ns] * len(chunks))


def load_scanned(
    scan: Scan,
    max_file_bytes: int,
    cache: ArticleCache,
    workers: int = 1,
    include_drafts: bool = True,
) -> LoadResult:
    """Load every scanned file, from the cache where it is unchanged.

    Without ``include_drafts``, drafts are counted (``drafts_skipped``) but
    not built: a cron run over a large site need not pay for them.

    Every article comes back light (no excerpt, HTML, images or related
    stories): ``cache.hydrate`` fills in the ones to be rendered.
    """
    now_ns = time.time_ns()
    reader = RowReader(skip_drafts=not include_drafts)
    hits, to_parse, racy = cache.lookup(scan.files, now_ns, reader)
    unchanged: list[SourceFile] = []
    for file in racy:
        # The mtime cannot vouch for the content: the bytes' hash decides.
        try:
            data = read_bytes(file.path, file.display, max_file_bytes)
        except SourceError:
            to_parse.append(file)
            continue
        if hashlib.sha1(data).hexdigest() == hits[file.display].sha1:
            unchanged.append(file)
        else:
            to_parse.append(file)
    if unchanged:
        cache.touch(unchanged, now_ns)
    outcomes = dict(hits)
    for rows in parse_files(to_parse, max_file_bytes, workers, now_ns):
        cache.store(rows)
        for row in rows:
            outcomes[str(row[0])] = reader.read(row)
    cache.forget_others(f.display for f in scan.files)

    articles: list[Article] = []
    rejections: list[Rejection] = []
    notes = list(scan.notes)
    drafts_skipped = 0
    for file in scan.files:
        outcome = outcomes[file.display]
        drafts_skipped += outcome.draft_skipped
        if outcome.article is not None:
            articles.append(outcome.article)
        if outcome.rejection is not None:
            rejections.append(outcome.rejection)
        notes.extend(outcome.notes)
    return LoadResult(
        articles=tuple(articles),
        rejections=tuple(rejections),
        topics=scan.topics,
        providers=scan.providers,
        files_read=len(scan.files),
        notes=tuple(notes),
        drafts_skipped=drafts_skipped,
    )


def load_sources(sources: Sequence[Path], max_file_bytes: int, workers: int = 1) -> LoadResult:
    """Load every article (in full) and taxonomy file of the given sources, without a cache.

    Raises:
        SourceError: a source folder itself is missing or unreadable.
    """
    with State.open(None) as state:
        cache = ArticleCache(state, max_file_bytes)
        loaded = load_scanned(scan_sources(sources), max_file_bytes, cache, workers)
        full = cache.hydrate(loaded.articles)
    return replace(loaded, articles=tuple(full[a.path] for a in loaded.articles))
