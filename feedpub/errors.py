"""The one exception tree of feedpub.

    FeedpubError                 root: str(e) is a sentence a user can act on
    ├── ConfigError              config.toml or a command-line value is wrong
    ├── SourceError              one article file cannot become an article (path:line)
    ├── OutputError              the output folder cannot be written safely
    ├── LockError                another build holds the output folder
    ├── StateError               the state file cannot be opened, read or written
    ├── ShrinkError              a build would remove much of what subscribers have
    ├── ServeError               the preview server cannot start (no output folder, port taken),
    │                            or cannot watch the sources for file events
    └── DeployError              a deploy to object storage failed or was refused

The CLI maps these to exit codes in one place; anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path


class FeedpubError(Exception):
    """Root of every error feedpub raises on purpose."""


class ConfigError(FeedpubError):
    """The configuration (file or flags) is unusable; nothing is written."""


class SourceError(FeedpubError):
    """One source file could not be turned into an article.

    Carries the file and, where known, the 1-based line, so the message reads
    like a compiler's: ``_news/foo.md:3: publishedDateTime is not a date``.
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class OutputError(FeedpubError):
    """The output folder cannot be written without leaving it or clobbering it."""


class LockError(FeedpubError):
    """Another feedpub run holds the lock on the output folder."""


class StateError(FeedpubError):
    """The state file (cache, feed digests, link results) cannot be used."""


class ShrinkError(FeedpubError):
    """A build would remove most stories or feeds of the last one: nothing was written."""

    def __init__(self, message: str, removed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.removed = removed  # the feed folders that would have gone


class ServeError(FeedpubError):
    """``feedpub serve`` cannot start (nothing to serve, the address cannot be bound), or
    cannot watch the sources for file events (then it polls them instead)."""


class DeployError(FeedpubError):
    """A deploy failed (storage unreachable, request refused) or was refused (too many deletions).

    Files already uploaded are complete objects; the next deploy carries on from them.
    """
