"""``[feeds.<slug>]`` and ``[top_stories]`` config tables → typed, validated specs.

Unknown keys and wrong types are ConfigErrors naming the key, as everywhere
in config.toml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError
from ..tomlvalues import opt_int, opt_positive_int, reject_unknown

# A custom feed's slug is its folder (feeds/<slug>/) and a URL subscribers keep.
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
KINDS = ("article", "video")
DEFAULT_WINDOW_DAYS = 7.0
DEFAULT_TOP_ITEMS = 10


@dataclass(frozen=True, slots=True)
class CustomFeedSpec:
    """One ``[feeds.<slug>]`` table: a feed of the articles passing every filter given.

    Empty tuples and None mean "no such filter"; limits left None inherit
    the global ``max_items``, ``min_quality`` and ``max_age_days``.
    """

    slug: str
    title: str
    description: str = ""
    topics_any: tuple[str, ...] = ()
    topics_all: tuple[str, ...] = ()
    exclude_topics: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    exclude_providers: tuple[str, ...] = ()
    kind: str | None = None  # the ``type`` key: "article" or "video"
    min_quality: int | None = None
    keywords: tuple[str, ...] = ()
    max_age_days: float | None = None
    max_items: int | None = None


@dataclass(frozen=True, slots=True)
class TopStoriesSpec:
    """The ``[top_stories]`` table: the best stories of the last ``window_days`` days."""

    title: str = ""  # "" → "Top stories — <site title>"
    description: str = ""
    window_days: float = DEFAULT_WINDOW_DAYS
    max_items: int = DEFAULT_TOP_ITEMS
    per_topic: bool = False  # also one top-stories feed per topic


_LIST_KEYS = (
    "topics_any",
    "topics_all",
    "exclude_topics",
    "providers",
    "exclude_providers",
    "keywords",
)
_FEED_KEYS = {
    "title",
    "description",
    "type",
    "min_quality",
    "max_age_days",
    "max_items",
    *_LIST_KEYS,
}
_TOP_KEYS = {"title", "description", "window_days", "max_items", "per_topic"}


def parse_custom_feeds(raw: object, where: str) -> dict[str, CustomFeedSpec]:
    """The ``[feeds.<slug>]`` tables, by slug.

    Raises:
        ConfigError: a slug is not a safe folder name, a key is unknown, a
            value has the wrong type, or ``title`` is missing.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table of [feeds.<slug>] tables")
    feeds: dict[str, CustomFeedSpec] = {}
    for slug, table in raw.items():
        here = f"{where}.{slug}"
        if not _SLUG.match(str(slug)):
            raise ConfigError(
                f"{here}: a feed's name is its folder and must be lowercase letters, digits "
                f"and hyphens (at most 80), starting with a letter or digit"
            )
        if not isinstance(table, Mapping):
            raise ConfigError(f"{here} must be a table")
        reject_unknown(table, _FEED_KEYS, here)
        if "title" not in table:
            raise ConfigError(f"{here}: title is missing")
        kind = table.get("type")
        if kind is not None and kind not in KINDS:
            raise ConfigError(f'{here}: type must be "article" or "video", got {kind!r}')

        def names(
            key: str, table: Mapping[str, object] = table, here: str = here
        ) -> tuple[str, ...]:
            return _names(table.get(key), f"{here}: {key}")

        feeds[str(slug)] = CustomFeedSpec(
            slug=str(slug),
            title=_text(table["title"], f"{here}: title", required=True),
            description=_text(table.get("description", ""), f"{here}: description"),
            kind=None if kind is None else str(kind),
            min_quality=opt_int(table.get("min_quality"), f"{here}: min_quality"),
            max_age_days=_opt_days(table.get("max_age_days"), f"{here}: max_age_days"),
            max_items=opt_positive_int(table.get("max_items"), f"{here}: max_items"),
            topics_any=names("topics_any"),
            topics_all=names("topics_all"),
            exclude_topics=names("exclude_topics"),
            providers=names("providers"),
            exclude_providers=names("exclude_providers"),
            keywords=names("keywords"),
        )
    return feeds


def parse_top_stories(raw: object, where: str) -> TopStoriesSpec | None:
    """The ``[top_stories]`` table, or None when it is absent (the feed is opt-in).

    Raises:
        ConfigError: a key is unknown or a value has the wrong type.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    reject_unknown(raw, _TOP_KEYS, where)
    per_topic = raw.get("per_topic", False)
    if not isinstance(per_topic, bool):
        raise ConfigError(f"{where}: per_topic must be true or false, got {per_topic!r}")
    window = _opt_days(raw.get("window_days", DEFAULT_WINDOW_DAYS), f"{where}: window_days")
    if not window:
        raise ConfigError(f"{where}: window_days must be a number above 0")
    return TopStoriesSpec(
        title=_text(raw.get("title", ""), f"{where}: title"),
        description=_text(raw.get("description", ""), f"{where}: description"),
        window_days=window,
        max_items=opt_positive_int(raw.get("max_items", DEFAULT_TOP_ITEMS), f"{where}: max_items")
        or DEFAULT_TOP_ITEMS,
        per_topic=per_topic,
    )


def _text(value: object, where: str, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    if required and not value.strip():
        raise ConfigError(f"{where} must not be empty")
    return value


def _names(value: object, where: str) -> tuple[str, ...]:
    """A list of non-empty strings; absent is the empty tuple (no filter)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where} must be a non-empty list of strings, got {value!r}")
    names = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where} must be a list of non-empty strings, got {item!r}")
        names.append(item)
    return tuple(names)


def _opt_days(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where} must be a number of days of at least 0, got {value!r}")
    return float(value)
