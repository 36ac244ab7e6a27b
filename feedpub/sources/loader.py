"""Load every scanned file: unchanged ones from a cache, the rest parsed on every core.

The read stage knows nothing of where results are kept: a build hands it the
store's article cache through the ``ParseCache`` protocol, ``load_sources``
an in-memory one that keeps nothing.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..errors import SourceError
from ..lock import forking
from ..model import Article, ArticleHead, FileOutcome, LoadedFile, LoadResult, Rejection
from ..progress import PARSE, Progress
from .discover import Scan, SourceFile, scan_sources
from .fields import parse_article
from .read import decode_text, read_bytes
from .version import PARSER_VERSION

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 2000
CHUNK_FILES = 400
# In one process, files are parsed and stored this many at a time: progress to
# tell every tenth of a second or so, and no list of every row held at once.
SERIAL_CHUNK_FILES = 200

Row = TypeVar("Row")
# Turns one file's result into what the cache stores; runs in worker processes,
# so it must be a module-level function (or a partial of one).
Encoder = Callable[[SourceFile, LoadedFile, int], Row]


class ParseCache(Protocol[Row]):
    """Where parse results are kept between runs (``store.ArticleCache`` is one)."""

    @property
    def encoder(self) -> Callable[[SourceFile, LoadedFile, int], Row]: ...

    def lookup(
        self, files: Sequence[SourceFile], now_ns: int, skip_drafts: bool
    ) -> tuple[dict[str, FileOutcome], list[SourceFile], list[SourceFile]]:
        """The hits by path, the misses, and the racy files (their hash must decide)."""
        ...

    def store(
        self, rows: Sequence[Row], skip_drafts: bool, files: Sequence[SourceFile] | None = None
    ) -> list[FileOutcome]:
        """Keep fresh results; returns them as outcomes, in order.

        Given the ``files`` the rows are of, an outcome's article names its file
        by their own display name (one string per file, not two), and its
        ``sha1`` may be left empty.
        """
        ...

    def touch(self, files: Sequence[SourceFile], now_ns: int) -> None:
        """Racy files whose bytes proved unchanged: record their new stamps."""
        ...

    def forget_others(self, present: Iterable[str]) -> int: ...

    def bodies(self, articles: Iterable[ArticleHead]) -> dict[str, Article]:
        """Whole articles for light ones, keyed by path."""
        ...


def load_file(source: SourceFile, max_bytes: int, data: bytes | None = None) -> LoadedFile:
    """Load one article file; never raises for anything wrong with the file.

    ``data``: the file's bytes, when the caller has read them already.
    """
    notes: list[str] = []
    sha1 = ""
    try:
        if data is None:
            data = read_bytes(source.path, source.display, max_bytes)
        sha1 = hashlib.sha1(data).hexdigest()  # the article is a function of these bytes
        text = decode_text(data, source.display)
        digest = f"{PARSER_VERSION}:{sha1}"
        article = parse_article(text, source.path, source.display, notes, digest=digest, raw=data)
    except SourceError as e:
        return LoadedFile(None, Rejection(source.display, e.reason, e.line), tuple(notes), sha1)
    except (MemoryError, RecursionError) as e:  # this file's problem, not the build's
        reason = (
            "too large to read (out of memory)"
            if isinstance(e, MemoryError)
            else ("nested too deeply to read")
        )
        return LoadedFile(None, Rejection(source.display, reason), tuple(notes), sha1)
    return LoadedFile(article, None, tuple(notes), sha1)


def _parse_chunk(
    chunk: list[SourceFile], max_bytes: int, now_ns: int, encode: Encoder[Row]
) -> list[Row]:
    return [encode(source, load_file(source, max_bytes), now_ns) for source in chunk]


def parse_files(
    files: Sequence[SourceFile], max_bytes: int, workers: int, now_ns: int, encode: Encoder[Row]
) -> Iterator[list[Row]]:
    """Parse files into cache rows, chunk by chunk in order; on every core when it pays.

    Workers send back the cache's rows of plain values, not Article objects:
    pickling dataclasses across processes would cost more than the parsing
    saves. The caller stores each chunk as it arrives, while the workers go on.
    """
    if workers < 2 or len(files) < PARALLEL_MIN_FILES:
        for start in range(0, len(files), SERIAL_CHUNK_FILES):
            chunk = list(files[start : start + SERIAL_CHUNK_FILES])
            yield _parse_chunk(chunk, max_bytes, now_ns, encode)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunks = [list(files[i : i + CHUNK_FILES]) for i in range(0, len(files), CHUNK_FILES)]
    count = len(chunks)
    # fork: workers start in milliseconds and inherit the imported loader.
    # Workers collect cycles again (the parent paused its collector for the load).
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=gc.enable
    )
    done = 0
    try:
        # Frozen, the parent's objects are never walked by a worker's collector
        # (which would copy each page of them a worker shares).
        gc.freeze()
        try:
            with forking():  # map forks every worker at once (the fork start method)
                results = pool.map(
                    _parse_chunk, chunks, [max_bytes] * count, [now_ns] * count, [encode] * count
                )
        finally:
            gc.unfreeze()
        for rows in results:
            done += 1
            yield rows
    except BrokenProcessPool:
        # A file crashed its worker (a parser bug, the kernel's OOM killer): parse
        # what is left one file per process, so the crash costs that file only.
        pool.shutdown(wait=False, cancel_futures=True)
        for chunk in chunks[done:]:
            yield [_parse_alone(file, max_bytes, now_ns, encode) for file in chunk]
        return
    except BaseException:  # Ctrl-C: do not wait for the queued chunks
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _parse_alone(file: SourceFile, max_bytes: int, now_ns: int, encode: Encoder[Row]) -> Row:
    """One file parsed in a process of its own; a crash is that file's rejection."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_parse_into, args=(file, max_bytes, now_ns, encode, send))
    with forking():
        child.start()
    send.close()
    try:
        row: Row = receive.recv()
    except EOFError:  # the child died before it sent anything
        child.join()
        reason = f"crashed the parser (exit code {child.exitcode})"
        return encode(file, LoadedFile(None, Rejection(file.display, reason)), now_ns)
    finally:
        receive.close()
    child.join()
    return row


def _parse_into(
    file: SourceFile, max_bytes: int, now_ns: int, encode: Encoder[Row], send: Connection
) -> None:
    send.send(encode(file, load_file(file, max_bytes), now_ns))
    send.close()


def load_scanned(
    scan: Scan,
    max_file_bytes: int,
    cache: ParseCache[Row],
    workers: int = 1,
    include_drafts: bool = True,
    progress: Progress | None = None,
) -> LoadResult[ArticleHead]:
    """Load every scanned file, from the cache where it is unchanged.

    Without ``include_drafts``, drafts are counted (``drafts_skipped``) but
    not built: a cron run over a large site need not pay for them.
    Every article comes back light: ``cache.bodies`` gives the whole ones.
    ``progress`` hears the files parsed so far of those to parse, chunk by chunk.
    """
    # A load makes a few long-lived objects per file and no reference cycles: the
    # cyclic collector would walk them again and again for nothing (some 5 % of a
    # cold build's time in the parent).
    with _collector_paused():
        return _load_scanned(scan, max_file_bytes, cache, workers, include_drafts, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block, if it was on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _load_scanned(
    scan: Scan,
    max_file_bytes: int,
    cache: ParseCache[Row],
    workers: int,
    include_drafts: bool,
    progress: Progress | None,
) -> LoadResult[ArticleHead]:
    now_ns = time.time_ns()
    skip_drafts = not include_drafts
    hits, _, racy = cache.lookup(scan.files, now_ns, skip_drafts)
    unchanged: list[SourceFile] = []
    changed: set[str] = set()
    for file in racy:
        # The mtime cannot vouch for the content: the bytes' hash decides.
        try:
            data = read_bytes(file.path, file.display, max_file_bytes)
        except SourceError:
            changed.add(file.display)
            continue
        if hashlib.sha1(data).hexdigest() == hits[file.display].sha1:
            unchanged.append(file)
        else:
            changed.add(file.display)
    if unchanged:
        cache.touch(unchanged, now_ns)
    # Parsed in the scan's order, so each result is gathered as it comes back:
    # no outcome is kept per file beside the article it holds.
    to_parse = [f for f in scan.files if f.display not in hits or f.display in changed]
    gathered = _Gathered(list(scan.notes))
    listed = iter(scan.files)
    done = 0  # chunks come back in order
    if progress is not None and to_parse:
        progress(PARSE, 0, len(to_parse))
    for rows in parse_files(to_parse, max_file_bytes, workers, now_ns, cache.encoder):
        files = to_parse[done : done + len(rows)]
        done += len(rows)
        for file, outcome in zip(files, cache.store(rows, skip_drafts, files), strict=True):
            for earlier in listed:  # the scan's files before this one are cache hits
                if earlier is file:
                    break
                gathered.add(earlier.display, hits[earlier.display])
            gathered.add(file.display, outcome)
        if progress is not None:
            progress(PARSE, done, len(to_parse))
    for rest in listed:
        gathered.add(rest.display, hits[rest.display])
    cache.forget_others(f.display for f in scan.files)
    return LoadResult(
        articles=tuple(gathered.articles),
        rejections=tuple(gathered.rejections),
        topics=scan.topics,
        providers=scan.providers,
        files_read=len(scan.files),
        notes=tuple(gathered.notes),
        drafts_skipped=gathered.drafts_skipped,
        file_notes=tuple(gathered.file_notes),
    )


class _Gathered:
    """The outcomes of a load, gathered in the scan's order."""

    __slots__ = ("articles", "drafts_skipped", "file_notes", "notes", "rejections")

    def __init__(self, notes: list[str]) -> None:
        self.articles: list[ArticleHead] = []
        self.rejections: list[Rejection] = []
        self.notes = notes
        self.file_notes: list[tuple[str, str]] = []
        self.drafts_skipped = 0

    def add(self, display: str, outcome: FileOutcome) -> None:
        if outcome.article is not None:
            self.articles.append(outcome.article)
        if outcome.rejection is not None:
            self.rejections.append(outcome.rejection)
        if outcome.notes:
            self.notes.extend(outcome.notes)
            self.file_notes.extend((display, note) for note in outcome.notes)
        self.drafts_skipped += outcome.draft_skipped


class _NoCache:
    """A ParseCache that keeps nothing: every file is parsed, every article stays whole."""

    def __init__(self) -> None:
        self.articles: dict[str, Article] = {}

    @property
    def encoder(self) -> Callable[[SourceFile, LoadedFile, int], LoadedFile]:
        return _keep_loaded

    def lookup(
        self, files: Sequence[SourceFile], now_ns: int, skip_drafts: bool
    ) -> tuple[dict[str, FileOutcome], list[SourceFile], list[SourceFile]]:
        return {}, list(files), []

    def store(
        self,
        rows: Sequence[LoadedFile],
        skip_drafts: bool,
        files: Sequence[SourceFile] | None = None,
    ) -> list[FileOutcome]:
        outcomes = []
        for loaded in rows:
            article = loaded.article
            skipped = article is not None and article.draft and skip_drafts
            if article is not None and not skipped:
                self.articles[article.path] = article
            kept = None if skipped else article
            outcomes.append(FileOutcome(kept, loaded.rejection, loaded.notes, loaded.sha1, skipped))
        return outcomes

    def touch(self, files: Sequence[SourceFile], now_ns: int) -> None:
        pass

    def forget_others(self, present: Iterable[str]) -> int:
        return 0

    def bodies(self, articles: Iterable[ArticleHead]) -> dict[str, Article]:
        return {a.path: self.articles[a.path] for a in articles}


def _keep_loaded(_source: SourceFile, loaded: LoadedFile, _now_ns: int) -> LoadedFile:
    return loaded


def load_sources(
    sources: Sequence[Path], max_file_bytes: int, workers: int = 1
) -> LoadResult[Article]:
    """Load every article (whole) and taxonomy file of the given sources, without a cache.

    Raises:
        SourceError: a source folder itself is missing or unreadable.
    """
    cache = _NoCache()
    loaded = load_scanned(scan_sources(sources), max_file_bytes, cache, workers)
    whole = cache.bodies(loaded.articles)
    return LoadResult(
        articles=tuple(whole[a.path] for a in loaded.articles),
        rejections=loaded.rejections,
        topics=loaded.topics,
        providers=loaded.providers,
        files_read=loaded.files_read,
        notes=loaded.notes,
        drafts_skipped=loaded.drafts_skipped,
    )
