"""The parsed-article cache: unchanged files are neither read nor parsed again.

A file is unchanged when its size and mtime_ns match the cache and its mtime
is not "racy" (too close to when it was cached to tell two writes apart); a
racy file is read and its bytes' hash decides. Each row keeps the article
split in two: its head (title, URL, date, quality, topics, provider), read for
every file on every run, and its body as JSON (excerpt, HTML, images,
related), read only for the items of feeds being rendered.
Rows are JSON and plain values, never pickle: a state file is data, not code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import NamedTuple, Protocol, TypeVar, cast

from ..instants import from_micros, micros
from ..model import (
    Article,
    ArticleBody,
    ArticleHead,
    ArticleKind,
    FileOutcome,
    Image,
    LoadedFile,
    Provider,
    Rejection,
    Related,
)
from .state import State, guarded

RACY_NS = 2_000_000_000  # mtimes this close to the caching moment are not trusted
# Joins topics and provider fields in a row: text cleaning removes every C0
# control from names and URLs, so this one can never occur inside a field.
_SEPARATOR = "\x1f"
_COLUMNS = (
    "path, size, mtime_ns, cached_ns, fingerprint, sha1, rejection, notes, key, title, url, "
    "published, quality, heat, kind, draft, topics, provider, digest"
)


class FileStamp(Protocol):
    """What the file system says of an article file (its name, size, mtime), unread.

    ``sources.SourceFile`` is one: the cache needs no record of its own per file.
    """

    @property
    def display(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def mtime_ns(self) -> int: ...


Stamp = TypeVar("Stamp", bound=FileStamp)


class ArticleRow(NamedTuple):
    """One row of the ``articles`` table; a rejected file's article columns are None."""

    path: str
    size: int
    mtime_ns: int
    cached_ns: int
    fingerprint: str  # the parser's (see sources.parser_fingerprint)
    sha1: str
    rejection: str | None  # JSON [reason, line]
    notes: str | None  # JSON list
    key: str | None
    title: str | None
    url: str | None
    published: int | None  # microseconds since the epoch, UTC
    quality: int | None
    heat: int | None
    kind: str | None
    draft: int | None
    topics: str | None  # joined by _SEPARATOR
    provider: str | None  # name, domain, logo joined by _SEPARATOR
    digest: str | None
    body: str | None = None  # JSON; read only when rendering


# Made once: json.dumps with options builds an encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_NOTES_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps's separators, as before


def encode_body(body: ArticleBody | Article) -> str:
    """The body's JSON; an Article holds its body's fields itself (no ArticleBody made)."""
    return _JSON.encode(
        [
            body.excerpt,
            body.featured_html,
            [[i.url, i.width, i.height] for i in body.images],
            [
                [r.title, r.url, r.provider, micros(r.published) if r.published else None]
                for r in body.related
            ],
        ]
    )


def _related(title: str, url: str, provider: str | None, when: int | None = None) -> Related:
    # Rows written before related stories kept their date have three fields.
    return Related(title, url, provider, None if when is None else from_micros(when))


def decode_body(text: str) -> ArticleBody:
    excerpt, featured_html, images, related = json.loads(text)
    return ArticleBody(
        excerpt=excerpt,
        featured_html=featured_html,
        images=tuple(Image(u, w, h) for u, w, h in images),
        related=tuple(_related(*story) for story in related),
    )


def encode_row(stamp: FileStamp, loaded: LoadedFile, now_ns: int, fingerprint: str) -> ArticleRow:
    """One file's parse result as a row: plain values, cheap to send between processes."""
    notes = _NOTES_JSON.encode(list(loaded.notes)) if loaded.notes else None
    head = (stamp.display, stamp.size, stamp.mtime_ns, now_ns, fingerprint, loaded.sha1)
    article = loaded.article
    if article is None:
        assert loaded.rejection is not None
        reason = _NOTES_JSON.encode([loaded.rejection.reason, loaded.rejection.line])
        return ArticleRow(*head, reason, notes, *([None] * 12))
    provider = article.provider
    return ArticleRow(
        *head,
        None,
        notes,
        article.key,
        article.title,
        article.url,
        micros(article.published),
        article.quality,
        article.heat,
        article.kind.value,
        int(article.draft),
        _SEPARATOR.join(article.topics),
        _SEPARATOR.join((provider.name, provider.domain, provider.logo or ""))
        if provider
        else None,
        article.digest,
        encode_body(article),
    )


class ArticleCache:
    """Cached parse results in the state file, for one parser fingerprint."""

    def __init__(self, state: State, fingerprint: str) -> None:
        self.state = state
        self.fingerprint = fingerprint
        # One reader for every stored chunk, so that articles share their provider
        # and topic values across the whole load (by draft policy).
        self._readers: dict[bool, _RowReader] = {}
        # Whether the table held no row when looked up: every row since is a file
        # just parsed, so none can be of a file that is gone (a cold build).
        self._empty_before = False

    @property
    def encoder(self) -> Callable[[FileStamp, LoadedFile, int], ArticleRow]:
        return partial(encode_row, fingerprint=self.fingerprint)

    @guarded
    def lookup(
        self, stamps: Sequence[Stamp], now_ns: int, skip_drafts: bool
    ) -> tuple[dict[str, FileOutcome], list[Stamp], list[Stamp]]:
        """Split files into cache hits, misses, and racy ones whose hash must decide.

        Returns the hits by path, the misses, and the racy files (with their
        cached results among the hits: the caller compares their bytes' hash).
        """
        # Rows of another parser are misses: they are not even fetched. Rows are
        # read one at a time as SQLite hands them over (never all of them held
        # at once) and stay plain tuples (a named tuple per row costs more than
        # the reading).
        self._empty_before = not self.state.connection.execute(
            "SELECT EXISTS (SELECT 1 FROM articles)"
        ).fetchone()[0]
        wanted = {stamp.display: stamp for stamp in stamps}
        reader = _RowReader(skip_drafts)
        hits: dict[str, FileOutcome] = {}
        racy_paths: set[str] = set()
        for found in self.state.connection.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE fingerprint = ?", (self.fingerprint,)
        ):
            stamp = wanted.get(found[0])
            if stamp is None or found[1] != stamp.size:  # (path, size, mtime_ns, cached_ns, …)
                continue
            hits[stamp.display] = reader.read(found)
            if found[2] != stamp.mtime_ns or found[3] - stamp.mtime_ns < RACY_NS:
                racy_paths.add(stamp.display)
        misses = [stamp for stamp in stamps if stamp.display not in hits]
        racy = [stamp for stamp in stamps if stamp.display in racy_paths]
        return hits, misses, racy

    @guarded
    def store(
        self,
        rows: Sequence[ArticleRow],
        skip_drafts: bool,
        stamps: Sequence[FileStamp] | None = None,
    ) -> list[FileOutcome]:
        """Record fresh parse results (made by ``encoder``); returns them as outcomes.

        Given the ``stamps`` of the rows' files, the articles take their path
        from the stamps (one string per file, not two) and the outcomes' ``sha1``
        is left empty: a file just parsed needs no hash compared.
        """
        with self.state.transaction() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO articles ({_COLUMNS}, payload) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        reader = self._readers.get(skip_drafts)
        if reader is None:
            reader = self._readers[skip_drafts] = _RowReader(skip_drafts)
        if stamps is None:
            return [reader.read(row) for row in rows]
        pairs = zip(stamps, rows, strict=True)
        return [reader.read(row, stamp.display, "") for stamp, row in pairs]

    @guarded
    def touch(self, stamps: Sequence[FileStamp], now_ns: int) -> None:
        """Racy files whose bytes proved unchanged: record their new stamps."""
        with self.state.transaction() as db:
            db.executemany(
                "UPDATE articles SET size = ?, mtime_ns = ?, cached_ns = ? WHERE path = ?",
                [(s.size, s.mtime_ns, now_ns, s.display) for s in stamps],
            )

    @guarded
    def forget_others(self, present: Iterable[str]) -> int:
        """Drop rows of files that are gone; returns how many."""
        if self._empty_before:
            return 0
        keep = set(present)
        gone = [
            (path,)
            for (path,) in self.state.connection.execute("SELECT path FROM articles")
            if path not in keep
        ]
        if gone:
            with self.state.transaction() as db:
                db.executemany("DELETE FROM articles WHERE path = ?", gone)
        return len(gone)

    @guarded
    def cached(self, paths: Sequence[str], skip_drafts: bool) -> dict[str, FileOutcome]:
        """The cached outcomes of ``paths`` (those with a row of this parser), by path."""
        reader = _RowReader(skip_drafts)
        found: dict[str, FileOutcome] = {}
        for start in range(0, len(paths), 500):  # SQLite caps the number of parameters
            chunk = list(paths[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self.state.connection.execute(
                f"SELECT {_COLUMNS} FROM articles WHERE fingerprint = ? AND path IN ({marks})",
                (self.fingerprint, *chunk),
            ):
                found[row[0]] = reader.read(row)
        return found

    @guarded
    def forget(self, paths: Sequence[str]) -> None:
        """Drop the rows of files that are gone."""
        with self.state.transaction() as db:
            db.executemany("DELETE FROM articles WHERE path = ?", [(p,) for p in paths])

    @guarded
    def bodies(self, articles: Iterable[ArticleHead]) -> dict[str, Article]:
        """Whole articles (head and body) for light ones, keyed by path."""
        wanted = {a.path: a for a in articles}
        whole: dict[str, Article] = {}
        paths = sorted(wanted)
        for start in range(0, len(paths), 500):  # SQLite caps the number of parameters
            chunk = paths[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for path, body in self.state.connection.execute(
                f"SELECT path, payload FROM articles WHERE path IN ({marks})", chunk
            ):
                whole[path] = wanted[path].with_body(decode_body(body))
        return whole


def outcome_of_row(row: ArticleRow, skip_drafts: bool) -> FileOutcome:
    """What the cache will give back for a row (before or without storing it)."""
    return _RowReader(skip_drafts).read(row)


# The values of an ArticleRow but its body, as SQLite hands them over.
_HeadValues = tuple[
    str,
    int,
    int,
    int,
    str,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    int | None,
    int | None,
    int | None,
    str | None,
    int | None,
    str | None,
    str | None,
    str | None,
]
_KINDS = {kind.value: kind for kind in ArticleKind}


class _RowReader:
    """Turns rows back into outcomes; shares the Provider and topic tuples rows repeat."""

    def __init__(self, skip_drafts: bool) -> None:
        self.skip_drafts = skip_drafts
        self.providers: dict[str, Provider] = {}
        self.topics: dict[str, tuple[str, ...]] = {}

    def read(
        self, row: tuple[object, ...], path: str | None = None, sha1: str | None = None
    ) -> FileOutcome:
        """The outcome of a row: an ``ArticleRow``, or the first 19 values of one.

        ``path`` and ``sha1``, if given, stand for the row's own (equal, or not needed).
        """
        (
            row_path,
            _size,
            _mtime_ns,
            _cached_ns,
            _fingerprint,
            row_sha1,
            rejection,
            notes_json,
            key,
            title,
            url,
            published,
            quality,
            heat,
            kind,
            draft,
            topics,
            provider,
            digest,
        ) = cast(_HeadValues, row[:19])
        path = row_path if path is None else path
        sha1 = row_sha1 if sha1 is None else sha1
        notes = tuple(json.loads(notes_json)) if notes_json else ()
        if rejection is not None:
            reason, line = json.loads(rejection)
            return FileOutcome(None, Rejection(path, reason, line), notes, sha1)
        if draft and self.skip_drafts:
            return FileOutcome(None, None, notes, sha1, True)
        assert key is not None and title is not None and url is not None
        assert published is not None and kind is not None
        article = ArticleHead(
            key,
            path,
            title,
            url,
            from_micros(published),
            quality or 0,
            heat or 0,
            _KINDS.get(kind) or ArticleKind(kind),
            provider=self._provider(provider) if provider else None,
            topics=self._topics(topics or ""),
            draft=bool(draft),
            digest=digest or "",
        )
        return FileOutcome(article, None, notes, sha1)

    def _provider(self, text: str) -> Provider:
        provider = self.providers.get(text)
        if provider is None:
            name, domain, logo = text.split(_SEPARATOR)
            provider = self.providers[text] = Provider(name, domain, logo or None)
        return provider

    def _topics(self, text: str) -> tuple[str, ...]:
        topics = self.topics.get(text)
        if topics is None:
            topics = self.topics[text] = tuple(text.split(_SEPARATOR)) if text else ()
        return topics
