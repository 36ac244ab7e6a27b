"""The parsed-article cache: unchanged files are neither read nor parsed again.

A file is unchanged when its size and mtime_ns match the cache and its mtime
is not "racy" (too close to when it was cached to tell two writes apart); a
racy file is read and its bytes' hash decides. Each row keeps the article
split in two: the light fields grouping needs (title, URL, date, quality,
topics, provider), read for every file on every run, and a JSON payload
(excerpt, HTML, images, related) read only for items a changed feed renders.
Rows are JSON, never pickle: a state file is data, not code.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from .model import Article, Image, Provider, Rejection, Related
from .state import State

# Bump when loading changes what an article holds: every cached row is re-parsed.
PARSER_VERSION = 3  # 3: related stories keep their date
RACY_NS = 2_000_000_000  # mtimes this close to the caching moment are not trusted
# Joins topics and provider fields in a row: text cleaning removes every C0
# control from names and URLs, so this one can never occur inside a field.
_SEPARATOR = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FileStamp(Protocol):
    """What the file system says of an article file (its name, size, mtime), unread.

    ``load.SourceFile`` is one: the cache needs no record of its own per file.
    """

    @property
    def display(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def mtime_ns(self) -> int: ...


class CachedResult(NamedTuple):
    """A file's cached outcome: a light article or a rejection, and its notes.

    A NamedTuple, not a dataclass: one is made per file on every run.
    """

    article: Article | None
    rejection: Rejection | None
    notes: tuple[str, ...]
    sha1: str
    draft_skipped: bool = False  # a draft, read without building its article


def _micros(moment: datetime) -> int:
    return calendar.timegm(moment.utctimetuple()) * 1_000_000 + moment.microsecond


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def payload_of(article: Article) -> str:
    """The heavy fields as JSON: loaded only when the article is rendered."""
    return json.dumps(
        [
            article.excerpt,
            article.featured_html,
            [[i.url, i.width, i.height] for i in article.images],
            [
                [r.title, r.url, r.provider, _micros(r.published) if r.published else None]
                for r in article.related
            ],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def with_payload(article: Article, payload: str) -> Article:
    excerpt, featured_html, images, related = json.loads(payload)
    return replace(
        article,
        excerpt=excerpt,
        featured_html=featured_html,
        images=tuple(Image(u, w, h) for u, w, h in images),
        related=tuple(
            Related(t, u, p, _from_micros(d) if d is not None else None) for t, u, p, d in related
        ),
    )


Row = tuple[object, ...]


def cache_fingerprint(max_file_bytes: int) -> str:
    """Rows made under another parser version or size limit are parsed again."""
    return f"v{PARSER_VERSION}:max={max_file_bytes}"


def row_of(
    stamp: FileStamp,
    sha1: str,
    article: Article | None,
    rejection: Rejection | None,
    notes: tuple[str, ...],
    payload: str,
    now_ns: int,
    fingerprint: str,
) -> Row:
    """One file's parse result as a cache row: plain values, cheap to send between processes."""
    notes_json = json.dumps(list(notes), ensure_ascii=False) if notes else None
    head = (stamp.display, stamp.size, stamp.mtime_ns, now_ns, fingerprint, sha1)
    if article is None:
        assert rejection is not None
        reason = json.dumps([rejection.reason, rejection.line], ensure_ascii=False)
        return (*head, reason, notes_json, *([None] * 12))
    provider = article.provider
    return (
        *head,
        None,
        notes_json,
        article.key,
        article.title,
        article.url,
        _micros(article.published),
        article.quality,
        article.heat,
        article.kind,
        int(article.draft),
        _SEPARATOR.join(article.topics),
        _SEPARATOR.join((provider.name, provider.domain, provider.logo or ""))
        if provider
        else None,
        article.digest,
        payload or payload_of(article),
    )


Stamp = TypeVar("Stamp", bound=FileStamp)


class ArticleCache:
    """Cached parse results in the state file, for one ``max_file_bytes`` setting."""

    def __init__(self, state: State, max_file_bytes: int) -> None:
        self.state = state
        self.fingerprint = cache_fingerprint(max_file_bytes)

    def _rows(self) -> dict[str, Row]:
        return {
            row[0]: row
            for row in self.state.connection.execute(
                "SELECT path, size, mtime_ns, cached_ns, fingerprint, sha1, rejection, notes, "
                "key, title, url, published, quality, heat, kind, draft, topics, provider, "
                "digest FROM articles"
            )
        }

    def lookup(
        self, stamps: Sequence[Stamp], now_ns: int, reader: RowReader
    ) -> tuple[dict[str, CachedResult], list[Stamp], list[Stamp]]:
        """Split files into cache hits, misses, and racy ones whose hash must decide.

        Returns the hits by path, the misses, and the racy files (with their
        cached results among the hits: the caller compares their bytes' hash).
        """
        rows = self._rows()
        hits: dict[str, CachedResult] = {}
        misses: list[Stamp] = []
        racy: list[Stamp] = []
        for stamp in stamps:
            row = rows.get(stamp.display)
            if row is None or row[4] != self.fingerprint:
                misses.append(stamp)
                continue
            if row[1] != stamp.size:
                misses.append(stamp)
                continue
            hits[stamp.display] = reader.read(row)
            if row[2] != stamp.mtime_ns or cast(int, row[3]) - stamp.mtime_ns < RACY_NS:
                racy.append(stamp)
        return hits, misses, racy

    def store(self, rows: Sequence[Row]) -> None:
        """Record fresh parse results, made by ``row_of``."""
        with self.state.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO articles (path, size, mtime_ns, cached_ns, fingerprint, "
                "sha1, rejection, notes, key, title, url, published, quality, heat, kind, draft, "
                "topics, provider, digest, payload) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                list(rows),
            )

    def touch(self, stamps: Iterable[FileStamp], now_ns: int) -> None:
        """Racy files whose bytes proved unchanged: record their new stamps."""
        with self.state.transaction() as db:
            db.executemany(
                "UPDATE articles SET size = ?, mtime_ns = ?, cached_ns = ? WHERE path = ?",
                [(s.size, s.mtime_ns, now_ns, s.display) for s in stamps],
            )

    def forget_others(self, present: Iterable[str]) -> int:
        """Drop rows of files that are gone; returns how many."""
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

    def hydrate(self, articles: Iterable[Article]) -> dict[str, Article]:
        """Full articles (payload included) for light ones, keyed by path."""
        wanted = {a.path: a for a in articles}
        full: dict[str, Article] = {}
        paths = sorted(wanted)
        for start in range(0, len(paths), 500):
            chunk = paths[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for path, payload in self.state.connection.execute(
                f"SELECT path, payload FROM articles WHERE path IN ({marks})", chunk
            ):
                full[path] = with_payload(wanted[path], payload)
        return full

    def file_sha1s(self, paths: Iterable[str]) -> Mapping[str, str]:
        wanted = set(paths)
        return {
            path: sha1
            for path, sha1 in self.state.connection.execute("SELECT path, sha1 FROM articles")
            if path in wanted
        }


class RowReader:
    """Turns cache rows back into results; shares the Provider and topic tuples rows repeat."""

    def __init__(self, skip_drafts: bool = False) -> None:
        self.skip_drafts = skip_drafts
        self.providers: dict[str, Provider] = {}
        self.topics: dict[str, tuple[str, ...]] = {}

    def read(self, row: Row) -> CachedResult:
        # The row's types are the table's (see row_of); one cast, not one per field.
        (path, _, _, _, _, sha1, rejection, notes, key, title, url, published, quality, heat,
         kind, draft, topics, provider, digest) = cast(tuple[Any, ...], row)[:19]  # fmt: skip
        note_list = tuple(json.loads(notes)) if notes else ()
        if rejection is not None:
            reason, line = json.loads(rejection)
            return CachedResult(None, Rejection(path, reason, line), note_list, sha1)
        if draft and self.skip_drafts:
            return CachedResult(None, None, note_list, sha1, True)
        article = Article(
            key,
            path,
            title,
            url,
            _EPOCH + timedelta(microseconds=published),
            quality,
            heat,
            kind,
            provider=self._provider(provider) if provider else None,
            topics=self._topics(topics),
            draft=bool(draft),
            digest=digest,
        )
        return CachedResult(article, None, note_list, sha1)

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
