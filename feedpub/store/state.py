"""The SQLite state file: parsed-article cache and link-check results.

One file (default ``.feedpub/state.sqlite`` beside the config), opened in WAL
mode so a run killed at any moment leaves it usable. The schema is versioned
with ``PRAGMA user_version``; each entry of MIGRATIONS moves it one version
up. Everything in it is disposable: a file that is damaged, of another
schema (a newer feedpub's) or not a file at all is moved aside, kept for a
look, and a new one started; the build that finds it runs as a cold build.
A full or read-only disk is a StateError: moving the file would not help.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import ParamSpec, TypeVar

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
    # 3: when each story's content last changed (changes.py); times are µs since the epoch.
    """
    CREATE TABLE changes (
        key TEXT PRIMARY KEY,
        content TEXT NOT NULL,
        modified INTEGER
    );
    """,
    # 4: what the last build published, kept so that a few changed files can be applied to
    # it (published.py), and the listing it saw (stamps.py). Indexes run in feed order.
    """
    CREATE TABLE stamps (folder TEXT PRIMARY KEY, entries BLOB NOT NULL);
    CREATE TABLE published (
        path TEXT NOT NULL,
        key TEXT NOT NULL,
        canonical TEXT NOT NULL,
        published INTEGER NOT NULL,
        quality INTEGER NOT NULL,
        updated INTEGER,
        provider TEXT,
        logo TEXT NOT NULL,
        topics TEXT NOT NULL
    );
    CREATE TABLE published_topics (
        topic TEXT NOT NULL,
        published INTEGER NOT NULL,
        quality INTEGER NOT NULL,
        key TEXT NOT NULL,
        path TEXT NOT NULL
    );
    CREATE UNIQUE INDEX published_path ON published (path);
    CREATE UNIQUE INDEX published_key ON published (key);
    CREATE UNIQUE INDEX published_canonical ON published (canonical);
    CREATE INDEX published_order ON published (published DESC, quality DESC, key);
    CREATE INDEX published_provider ON published (provider, published DESC, quality DESC, key);
    CREATE INDEX topic_order ON published_topics (topic, published DESC, quality DESC, key);
    CREATE TABLE merged (path TEXT PRIMARY KEY, canonical TEXT NOT NULL);
    CREATE INDEX merged_canonical ON merged (canonical);
    """,
)


class State:
    """An open state file. Use as a context manager, or call ``close``.

    ``notes`` says what opening it had to repair (a damaged file moved aside).
    """

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self.connection = connection
        self.path = path
        self.notes: list[str] = []

    @classmethod
    def open(cls, path: Path | None) -> State:
        """Open (creating if needed) and migrate the state file at ``path``.

        ``None`` gives a state in memory, gone when closed: nothing is cached.
        A file that is damaged, of another schema, or not a file at all is
        moved aside (see ``move_aside``) and a new one started.

        Raises:
            StateError: the file cannot be created or written (a read-only or
                full disk, no permission).
        """
        if path is None:
            return cls._connect(None)
        try:
            return cls._connect(path)
        except StateDamagedError as e:
            note = move_aside(path, e.reason)
        state = cls._connect(path)
        state.notes.append(note)
        return state

    @classmethod
    def _connect(cls, path: Path | None) -> State:
        if path is not None:
            _check_is_file(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StateError(
                    f"cannot create the folder of the state file {path}: {e.strerror or e}"
                ) from e
        try:
            target = ":memory:" if path is None else path
            connection = sqlite3.connect(target, timeout=30, isolation_level=None)
        except sqlite3.Error as e:
            raise classify_error(e, path) from e
        state = cls(connection, path)
        try:
            with state.guard():
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                state._migrate()
                state._check_schema()
        except StateError:
            connection.close()
            raise
        return state

    def _migrate(self) -> None:
        version = int(self.connection.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StateDamagedError(
                f"written by a newer feedpub (schema {version}, this one knows {len(MIGRATIONS)})"
            )
        for number in range(version, len(MIGRATIONS)):
            with self.transaction():
                for statement in _statements(MIGRATIONS[number]):
                    self.connection.execute(statement)
                self.connection.execute(f"PRAGMA user_version = {number + 1}")

    def _check_schema(self) -> None:
        """Every table with every column this feedpub reads (a dropped table is damage)."""
        for table, columns in _SCHEMA.items():
            self.connection.execute(f"SELECT {columns} FROM {table} LIMIT 0").fetchall()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn any SQLite error in the block into a StateError that says what to do."""
        try:
            yield
        except (sqlite3.Error, UnicodeDecodeError) as e:  # damaged text decodes badly
            raise classify_error(e, self.path) from e

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


class StateDamagedError(StateError):
    """The state file is damaged or of another schema: it can be moved aside and rebuilt."""

    def __init__(self, reason: str) -> None:
        # SQLite quotes damaged bytes in its messages: newlines among them would
        # break the one warning line into several.
        reason = "".join(c if c.isprintable() else repr(c)[1:-1] for c in reason)
        reason = reason if len(reason) <= MAX_REASON_CHARS else reason[:MAX_REASON_CHARS] + "…"
        super().__init__(f"the state file is unusable: {reason}")
        self.reason = reason


MAX_REASON_CHARS = 300


# Errors of the machine, not of the file: moving the file aside would not help.
_ENVIRONMENT = ("readonly", "read-only", "disk is full", "unable to open", "locked", "permission")

_SCHEMA = {
    "articles": "path, size, mtime_ns, cached_ns, fingerprint, sha1, rejection, notes, key, "
    "title, url, published, quality, heat, kind, draft, topics, provider, digest, payload",
    "feeds": "folder, digest",
    "meta": "name, value",
    "links": "url, state, http_status, final_url, error, first_checked, last_checked, "
    "consecutive_failures, dead_since, dead_checks",
    "changes": "key, content, modified",
    "stamps": "folder, entries",
    "published": "path, key, canonical, published, quality, updated, provider, logo, topics",
    "published_topics": "topic, published, quality, key, path",
    "merged": "path, canonical",
}


def classify_error(error: sqlite3.Error | UnicodeDecodeError, path: Path | None) -> StateError:
    """A StateError for an SQLite error: damage (the file can be rebuilt) or the machine's."""
    text = str(error)
    if any(word in text.lower() for word in _ENVIRONMENT):
        return StateError(f"cannot use the state file {path}: {text}")
    return StateDamagedError(text)


def _check_is_file(path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise StateError(f"cannot read the state file {path}: {e.strerror or e}") from e
    if not stat.S_ISREG(mode):
        raise StateDamagedError("not a regular file")


def move_aside(path: Path, reason: str) -> str:
    """Move a damaged state file (and its WAL files) to ``<name>.corrupt-<UTC time>``.

    Returns the warning to report. Nothing is deleted: the file is kept for
    whoever wants to look at it; the next build starts without a cache.

    Raises:
        StateError: the file cannot be moved (a read-only folder).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        os.replace(path, aside)
    except OSError as e:
        raise StateError(
            f"the state file {path} is unusable ({reason}) and cannot be moved aside: "
            f"{e.strerror or e}"
        ) from e
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.replace(companion, aside.with_name(aside.name + suffix))
    return (
        f"the state file {path} was unusable ({reason}); moved aside to {aside.name} "
        "and rebuilt: this build parsed every file afresh"
    )


Params = ParamSpec("Params")
Result = TypeVar("Result")


def guarded(function: Callable[Params, Result]) -> Callable[Params, Result]:
    """Make SQLite errors of a store function StateErrors (``classify_error``).

    The function's first argument is the State, or an object with a ``state``.
    """

    @functools.wraps(function)
    def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return function(*args, **kwargs)
        except (sqlite3.Error, UnicodeDecodeError) as e:
            owner = args[0] if args else None
            state = owner if isinstance(owner, State) else getattr(owner, "state", None)
            raise classify_error(e, state.path if isinstance(state, State) else None) from e

    return wrapper
