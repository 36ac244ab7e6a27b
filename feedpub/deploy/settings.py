"""The ``[deploy]`` table of config.toml → typed DeploySettings.

Credentials are never read from here: boto3 finds them in the standard AWS
chain (environment, shared credentials and config files, ``profile``).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import ConfigError

DEFAULT_MAX_DELETES = 256  # as Hugo's deploy
DEFAULT_CONCURRENCY = 8


class FileKind(StrEnum):
    """What a file of the output folder is, for its Cache-Control header."""

    FEED = "feed"  # a subscription document (RSS, Atom, JSON Feed) and index.opml
    PAGE = "page"  # an HTML page
    ARCHIVE = "archive"  # an RFC 5005 archive page that will not gain items
    ARCHIVE_NEWEST = "archive_newest"  # the newest archive page: changes once more
    STYLESHEET = "stylesheet"  # feed.xsl
    OTHER = "other"  # anything else in the output folder


DEFAULT_CACHE_CONTROL: Mapping[FileKind, str] = {
    FileKind.FEED: "public, max-age=300",
    FileKind.PAGE: "public, max-age=300",
    # Archive pages (RFC 5005 § 4) are stable: a full page only changes when one
    # of its own items is corrected, which the invalidation hook covers.
    FileKind.ARCHIVE: "public, max-age=31536000, immutable",
    # The newest one changes once more, when the next page fills and it gains
    # its next-archive link.
    FileKind.ARCHIVE_NEWEST: "public, max-age=3600",
    FileKind.STYLESHEET: "public, max-age=86400",
    FileKind.OTHER: "public, max-age=3600",
}


@dataclass(frozen=True, slots=True)
class DeploySettings:
    """Where and how ``feedpub deploy`` uploads the output folder."""

    bucket: str | None = None
    prefix: str = ""  # "" or "some/folder/"
    endpoint_url: str | None = None  # None: AWS S3 itself
    region: str | None = None
    path_style: bool = False
    profile: str | None = None  # a profile of the shared AWS config files
    max_deletes: int = DEFAULT_MAX_DELETES
    concurrency: int = DEFAULT_CONCURRENCY
    invalidate: tuple[str, ...] = ()  # a command; the changed URLs go to its stdin
    cache_control: Mapping[FileKind, str] = field(
        default_factory=lambda: dict(DEFAULT_CACHE_CONTROL)
    )


_KEYS = {
    "bucket",
    "prefix",
    "endpoint_url",
    "region",
    "path_style",
    "profile",
    "max_deletes",
    "concurrency",
    "invalidate",
    "cache_control",
}


def normalize_prefix(prefix: str) -> str:
    """A key prefix as a folder: no leading slash, one trailing slash ("" for the root).

    Raises:
        ConfigError: the prefix has an empty, ``.`` or ``..`` segment.
    """
    parts = prefix.strip("/").split("/")
    if parts == [""]:
        return ""
    if any(p in ("", ".", "..") for p in parts):
        raise ConfigError(f"deploy prefix {prefix!r} must be a plain folder path like 'feeds/'")
    return "/".join(parts) + "/"


def parse_command(value: object, where: str) -> tuple[str, ...]:
    """A command as a string (split like a shell would, without running one) or a list.

    Raises:
        ConfigError: neither a string nor a list of strings, or empty.
    """
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as e:
            raise ConfigError(f"{where}: cannot split the command {value!r}: {e}") from e
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        words = [str(v) for v in value]
    else:
        raise ConfigError(f"{where} must be a command string or a list of strings, got {value!r}")
    if not words:
        raise ConfigError(f"{where} is an empty command")
    return tuple(words)


def parse_deploy_settings(raw: object, where: str) -> DeploySettings:
    """Turn the ``[deploy]`` table into DeploySettings.

    Raises:
        ConfigError: an unknown key, or a value of the wrong type.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(_KEYS))})"
        )

    def text(key: str) -> str | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
        return value

    def count(key: str, default: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: {key} must be a whole number, got {value!r}")
        return value

    path_style = raw.get("path_style", False)
    if not isinstance(path_style, bool):
        raise ConfigError(f"{where}: path_style must be true or false, got {path_style!r}")
    concurrency = count("concurrency", DEFAULT_CONCURRENCY)
    if concurrency < 1:
        raise ConfigError(f"{where}: concurrency must be at least 1, got {concurrency}")
    invalidate = raw.get("invalidate")
    return DeploySettings(
        bucket=text("bucket"),
        prefix=normalize_prefix(text("prefix") or ""),
        endpoint_url=text("endpoint_url"),
        region=text("region"),
        path_style=path_style,
        profile=text("profile"),
        max_deletes=count("max_deletes", DEFAULT_MAX_DELETES),
        concurrency=concurrency,
        invalidate=() if invalidate is None else parse_command(invalidate, f"{where}: invalidate"),
        cache_control=_cache_control(raw.get("cache_control", {}), f"{where}.cache_control"),
    )


def _cache_control(raw: object, where: str) -> dict[FileKind, str]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    values = dict(DEFAULT_CACHE_CONTROL)
    kinds = {k.value for k in FileKind}
    for key, value in raw.items():
        if key not in kinds:
            raise ConfigError(
                f"{where}: unknown kind {key!r} (known kinds: {', '.join(sorted(kinds))})"
            )
        if not isinstance(value, str) or not value.strip() or "\n" in value:
            raise ConfigError(f"{where}: {key} must be a Cache-Control value, got {value!r}")
        values[FileKind(key)] = value.strip()
    return values
