"""What the last build published, in feed order: the base a few changed files are applied to.

A full build records every published story (``record_published``) with what
ordering and grouping need: its id, canonical URL, date, quality, provider
and topics. The indexes run in feed order (newest first, then higher
quality, then id), so an incremental build reads the newest items of one
feed straight off an index, and the unique ones (id, canonical URL) refuse
a story that would need merging: that build then falls back to a full one.
The rest of the picture (the feeds, the taxonomy, the counts of the report)
is one JSON document in ``meta``, written and read by ``feedpub.incremental``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from .state import State, guarded


class PublishedRow(NamedTuple):
    """One published story as the indexes need it (``topics`` are kept as JSON text)."""

    path: str
    key: str
    canonical: str
    published: int  # microseconds since the epoch, UTC
    quality: int
    updated: int | None  # when it differs from published (stories of one instant)
    provider: str | None  # the provider feed's key
    logo: str  # the story's own provider logo ("" for none)
    topics: tuple[str, ...]  # the topic feeds' keys, each once


class Conflict(Exception):
    """A change the indexes refuse: another story already has this id or canonical URL."""


_SNAPSHOT = "published"


@guarded
def record_published(
    state: State,
    rows: Iterable[tuple[object, ...]],
    merged: Iterable[tuple[str, str]],
    snapshot: str,
) -> None:
    """Replace the record of what is published: every story (the values of a PublishedRow,
    its topics as a JSON list), the files merged away (path, canonical URL) and the JSON
    snapshot. ``rows`` are read once, as they come: none is kept."""
    with state.transaction() as db:
        # The indexes (state.py) are dropped and made again around the rows: sorting
        # once is quicker than keeping them sorted through 100,000 inserts.
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('published', 'published_topics')"
        ).fetchall()
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        db.execute("DELETE FROM published")
        db.execute("DELETE FROM published_topics")
        db.execute("DELETE FROM merged")
        db.executemany("INSERT INTO published VALUES (?,?,?,?,?,?,?,?,?)", rows)
        db.execute(  # each story's topics, in SQLite (json_each), not in Python
            "INSERT INTO published_topics SELECT t.value, p.published, p.quality, p.key, p.path "
            "FROM published p, json_each(p.topics) t"
        )
        for _, sql in indexes:
            db.execute(sql)
        db.executemany("INSERT OR REPLACE INTO merged VALUES (?, ?)", merged)
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_SNAPSHOT, snapshot))


@guarded
def forget_published(state: State) -> None:
    """No record: the next build is a full one (a build that cannot keep one)."""
    with state.transaction() as db:
        db.execute("DELETE FROM meta WHERE name = ?", (_SNAPSHOT,))


def _insert(db: sqlite3.Connection, rows: Sequence[PublishedRow]) -> None:
    db.executemany(
        "INSERT INTO published VALUES (?,?,?,?,?,?,?,?,?)",
        [(*row[:8], json.dumps(row.topics)) for row in rows],
    )
    db.executemany(
        "INSERT INTO published_topics VALUES (?,?,?,?,?)",
        [(t, row.published, row.quality, row.key, row.path) for row in rows for t in row.topics],
    )


def _delete(db: sqlite3.Connection, rows: Sequence[PublishedRow]) -> None:
    db.executemany("DELETE FROM published WHERE path = ?", [(row.path,) for row in rows])
    db.executemany(
        "DELETE FROM published_topics INDEXED BY topic_order "
        "WHERE topic = ? AND published = ? AND quality = ? AND key = ?",
        [(t, row.published, row.quality, row.key) for row in rows for t in row.topics],
    )


@guarded
def snapshot(state: State) -> str | None:
    """The JSON snapshot of the last full or incremental build, if it kept one."""
    row = state.connection.execute("SELECT value FROM meta WHERE name = ?", (_SNAPSHOT,)).fetchone()
    return None if row is None else str(row[0])


@guarded
def published_rows(state: State, paths: Sequence[str]) -> dict[str, PublishedRow]:
    """The published stories among ``paths``, by path."""
    found: dict[str, PublishedRow] = {}
    db = state.connection
    for start in range(0, len(paths), 500):  # SQLite caps the number of parameters
        chunk = list(paths[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
            "SELECT path, key, canonical, published, quality, updated, provider, logo, topics "
            f"FROM published WHERE path IN ({marks})",
            chunk,
        ):
            path, key, canonical, published, quality, updated, provider, logo, topics = row
            found[path] = PublishedRow(
                path,
                key,
                canonical,
                published,
                quality,
                updated,
                provider,
                logo,
                tuple(json.loads(topics)),
            )
    return found


@guarded
def merged_with(state: State, paths: Sequence[str], canonicals: Sequence[str]) -> bool:
    """Whether any of ``paths`` was merged away, or any URL is one a file was merged into."""
    db = state.connection
    for column, values in (("path", paths), ("canonical", canonicals)):
        for start in range(0, len(values), 500):
            chunk = list(values[start : start + 500])
            marks = ",".join("?" * len(chunk))
            if db.execute(
                f"SELECT 1 FROM merged WHERE {column} IN ({marks}) LIMIT 1", chunk
            ).fetchone():
                return True
    return False


@guarded
def apply_changes(
    state: State,
    gone: Sequence[PublishedRow],
    added: Sequence[PublishedRow],
    instants: Iterable[int],
    logos: Callable[[Callable[[str], str | None]], bool],
) -> dict[int, list[tuple[str, str, int | None]]]:
    """Remove the stories ``gone`` and add ``added``, in one transaction.

    ``logos`` is asked, with a function giving a provider's first logo in feed
    order as the change leaves it, whether the change may stand. Returns the
    stories (path, id, updated) published at each of ``instants`` once changed:
    stories of one instant are dated apart from one another.

    Raises:
        Conflict: the change is refused and nothing is changed: an added story's id or
            canonical URL is another story's, or ``logos`` said no.
    """
    with state.transaction() as db:
        _delete(db, gone)
        try:
            _insert(db, added)
        except sqlite3.IntegrityError as e:
            raise Conflict(str(e)) from e
        if not logos(lambda provider: _first_logo(db, provider)):
            raise Conflict("a provider's logo changes")
        return {
            when: db.execute(
                "SELECT path, key, updated FROM published INDEXED BY published_order "
                "WHERE published = ?",
                (when,),
            ).fetchall()
            for when in set(instants)
        }


@guarded
def redate(state: State, updated: Sequence[tuple[str, int | None]]) -> None:
    """Set the ``updated`` of stories (path, µs or None) whose instant they share changed."""
    with state.transaction() as db:
        db.executemany(
            "UPDATE published SET updated = ? WHERE path = ?", [(u, p) for p, u in updated]
        )


def _first_logo(db: sqlite3.Connection, provider: str) -> str | None:
    row = db.execute(
        "SELECT logo FROM published INDEXED BY published_provider WHERE provider = ? "
        "AND logo <> '' ORDER BY published DESC, quality DESC, key LIMIT 1",
        (provider,),
    ).fetchone()
    return None if row is None else str(row[0])


@guarded
def save_snapshot(state: State, snapshot_text: str) -> None:
    with state.transaction() as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_SNAPSHOT, snapshot_text))


@guarded
def newest(
    state: State,
    limit: int,
    min_quality: int | None,
    topic: str | None = None,
    provider: str | None = None,
) -> list[tuple[str, int | None]]:
    """The paths (and ``updated``) of the first ``limit`` stories of a feed, in feed order.

    The site's with neither ``topic`` nor ``provider``; ``min_quality`` leaves out the others.
    """
    floor = -(1 << 62) if min_quality is None else min_quality
    db = state.connection
    if topic is not None:
        return db.execute(
            "SELECT t.path, p.updated FROM published_topics t JOIN published p ON p.path = t.path "
            "WHERE t.topic = ? AND t.quality >= ? "
            "ORDER BY t.published DESC, t.quality DESC, t.key LIMIT ?",
            (topic, floor, limit),
        ).fetchall()
    if provider is not None:
        return db.execute(
            "SELECT path, updated FROM published INDEXED BY published_provider "
            "WHERE provider = ? AND quality >= ? "
            "ORDER BY published DESC, quality DESC, key LIMIT ?",
            (provider, floor, limit),
        ).fetchall()
    return db.execute(
        "SELECT path, updated FROM published INDEXED BY published_order WHERE quality >= ? "
        "ORDER BY published DESC, quality DESC, key LIMIT ?",
        (floor, limit),
    ).fetchall()


@guarded
def stored_stamps(state: State) -> dict[str, bytes]:
    """The listing of the sources the last build saw, by folder (see sources.Listing)."""
    return {
        key: bytes(entries) for key, entries in state.connection.execute("SELECT * FROM stamps")
    }


@guarded
def record_stamps(state: State, stamps: dict[str, bytes]) -> None:
    with state.transaction() as db:
        db.execute("DELETE FROM stamps")
        db.executemany("INSERT INTO stamps VALUES (?, ?)", stamps.items())
