"""The SQLite state file: parsed-article cache and link-check results.

One file (default ``.feedpub/state.sqlite`` beside the config), opened in WAL
mode so a run killed at any moment leaves it usable. The schema is versioned
with ``PRAGMA user_version``; each entry of MIGRATIONS moves it one version
up, and a state file from a newer feedpub is refused rather than damaged.
Everything in it is disposable: deleting the file only costs time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from ..errors import StateError

# Append only: never edit a migration that has shipped.
MIGRATIONS: tuple[str, ...] = (
    # 1: parsed-article cache (articles.py), feed digests and build facts (builds.py).
    """
    CREATE TABLE articles (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        cached_ns INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        sha1 TEXT NOT NULL,
        rejection TEXT,
        notes TEXT,
        key TEXT,
        title TEXT,
        url TEXT,
        published INTEGER,
        quality INTEGER,
        heat INTEGER,
        kind TEXT,
        draft INTEGER,
        topics TEXT,
        provider TEXT,
        digest TEXT,
        payload TEXT
    );
    CREATE TABLE feeds (folder TEXT PRIMARY KEY, digest TEXT NOT NULL);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: link-check results, one row per URL; times are ISO 8601 in UTC.
    """
    CREATE TABLE links (
        url TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        http_status INTEGER,
        final_url TEXT,
        error TEXT,
        first_checked TEXT NOT NULL,
        last_checked TEXT NOT NULL,
        consecutive_failures INTEGER NOT NULL,
        dead_since TEXT,
        dead_checks INTEGER NOT NULL
    );
    """,
)


class State:
    """An open state file. Use as a context manager, or call ``close``."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path | None) -> State:
        """Open (creating if needed) and migrate the state file at ``path``.

        ``None`` gives a state in memory, gone when closed: nothing is cached.

        Raises:
            StateError: the file cannot be opened, is not a feedpub state
                file, or comes from a newer feedpub.
        """
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            target = ":memory:" if path is None else path
            connection = sqlite3.connect(target, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise StateError(f"cannot open the state file {path}: {e}") from e
        state = cls(connection, path)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            state._migrate()
        except sqlite3.DatabaseError as e:
            connection.close()
            raise StateError(
                f"{path} is not a usable feedpub state file ({e}); delete it to start afresh"
            ) from e
        return state

    def _migrate(self) -> None:
        version = int(self.connection.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StateError(
                f"the state file {self.path} was written by a newer feedpub "
                f"(schema {version}, this one knows {len(MIGRATIONS)})"
            )
        for number in range(version, len(MIGRATIONS)):
            with self.transaction():
                for statement in _statements(MIGRATIONS[number]):
                    self.connection.execute(statement)
                self.connection.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> State:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
