"""config.toml → a typed, validated Config.

Unknown keys are errors (a typo must not silently do nothing). Relative paths
resolve against the folder holding the config file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from .baseurl import normalize_base_url
from .deploy.settings import DeploySettings, parse_deploy_settings
from .editorial.spec import (
    CustomFeedSpec,
    TopStoriesSpec,
    parse_custom_feeds,
    parse_top_stories,
)
from .errors import ConfigError
from .tomlvalues import (
    a_list,
    boolean,
    opt_int,
    opt_number,
    opt_positive_int,
    opt_str,
    positive_int,
    reject_unknown,
    string,
)

DEFAULT_MAX_ITEMS = 50
DEFAULT_MAX_FILE_BYTES = 1 << 20
DEFAULT_BASE_URL = "http://localhost:8000/"
DEFAULT_TITLE = "News"
DEFAULT_MAX_SHRINK = 0.5
DEFAULT_MAX_FEED_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FeedPolicy:
    """Editorial controls for one feed; None means "inherit the global value"."""

    title: str | None = None
    description: str | None = None
    max_items: int | None = None
    min_quality: int | None = None
    max_age_days: float | None = None
    enabled: bool = True
    icon: str | None = None  # absolute image URLs; see docs/feed-format.md
    logo: str | None = None


class OnDead(StrEnum):
    """What a build does with an article whose link is confirmed dead."""

    DROP = "drop"  # leave it out of every feed
    FLAG = "flag"  # keep it, with a "dead-link" category/tag and a note in its content
    KEEP = "keep"  # publish it unchanged


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """How links are checked, how long results are trusted, and what a dead one costs."""

    timeout: float = 10.0  # seconds, total per attempt
    concurrency: int = 32
    per_host: int = 4
    allow_private: bool = False
    on_dead: OnDead = OnDead.DROP
    confirm_after: timedelta = timedelta(hours=1)
    ttl_alive: timedelta = timedelta(hours=24)
    ttl_dead: timedelta = timedelta(hours=6)
    ttl_blocked: timedelta = timedelta(hours=24)
    ttl_unknown: timedelta = timedelta(hours=1)
    url_deadline: float = 45.0  # seconds one URL may take: every attempt, hop and wait
    run_deadline: float = 900.0  # seconds one check run may take; the rest waits for the next
    network_down_minutes: float = 5.0  # how long failures are kept when the network looked down


@dataclass(frozen=True, slots=True)
class Config:
    sources: tuple[Path, ...] = ()
    out: Path = Path("feeds")
    state: Path | None = None  # None: nothing cached between runs
    base_url: str = DEFAULT_BASE_URL
    title: str = DEFAULT_TITLE
    description: str = ""
    language: str = "en"
    max_items: int = DEFAULT_MAX_ITEMS
    include_drafts: bool = False
    min_quality: int | None = None
    max_age_days: float | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    hubs: tuple[str, ...] = ()  # WebSub hubs to advertise and ping
    archives: bool = False  # RFC 5005 archive pages beyond max_items
    stylesheet: bool = True  # write feed.xsl and point RSS and Atom at it
    icon: str | None = None  # the site's icon and logo: absolute image URLs
    logo: str | None = None
    topics: Mapping[str, FeedPolicy] = field(default_factory=dict)
    providers: Mapping[str, FeedPolicy] = field(default_factory=dict)
    links: LinkPolicy = LinkPolicy()
    feeds: Mapping[str, CustomFeedSpec] = field(default_factory=dict)  # [feeds.<slug>]
    top_stories: TopStoriesSpec | None = None  # [top_stories]; None: no such feed
    match_keywords: bool = False  # file articles under topics their text names
    # The shrink guard (guard.py): refuse a build that would lose this share of the
    # last build's stories or feeds, unless allow_shrink.
    allow_shrink: bool = False
    max_shrink: float = DEFAULT_MAX_SHRINK
    max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES  # a feed file is cut to the items that fit
    deploy: DeploySettings = field(default_factory=DeploySettings)  # feedpub deploy

    @property
    def site_domain(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def ages_out(self) -> bool:
        """Whether feeds can change with the clock alone: items age out of them."""
        policies = [*self.topics.values(), *self.providers.values()]
        return (
            self.max_age_days is not None
            or self.top_stories is not None
            or any(p.max_age_days is not None for p in policies)
            or any(f.max_age_days is not None for f in self.feeds.values())
        )


_POLICY_KEYS = {
    *("title", "description", "max_items", "min_quality", "max_age_days", "enabled"),
    *("icon", "logo"),
}
_TOP_KEYS = {
    "title",
    "description",
    "language",
    "base_url",
    "source",
    "out",
    "state",
    "max_items",
    "include_drafts",
    "min_quality",
    "max_age_days",
    "max_file_bytes",
    "hubs",
    "archives",
    "stylesheet",
    "icon",
    "logo",
    "topics",
    "providers",
    "links",
    "feeds",
    "top_stories",
    "match_keywords",
    "allow_shrink",
    "max_shrink",
    "max_feed_bytes",
    "deploy",
}
_LINK_KEYS = {
    "timeout",
    "concurrency",
    "per_host",
    "allow_private",
    "on_dead",
    "confirm_after",
    "ttl_alive",
    "ttl_dead",
    "ttl_blocked",
    "ttl_unknown",
    "url_deadline",
    "run_deadline",
    "network_down_minutes",
}


def load_config(path: Path) -> Config:
    """Read and validate a config file.

    Raises:
        ConfigError: the file is missing, not TOML, or holds an unknown key or
            a value of the wrong type.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config file: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    return parse_config(raw, base_dir=path.resolve().parent, where=str(path))


def parse_config(raw: Mapping[str, object], base_dir: Path, where: str = "config") -> Config:
    """Turn a TOML mapping into a Config; paths resolve against ``base_dir``."""
    reject_unknown(raw, _TOP_KEYS, where)
    sources_raw = raw.get("source", [])
    if isinstance(sources_raw, str):
        sources_raw = [sources_raw]
    sources = tuple(
        base_dir / string(s, f"{where}: source") for s in a_list(sources_raw, f"{where}: source")
    )
    config = Config(
        sources=sources,
        out=base_dir / string(raw.get("out", "feeds"), f"{where}: out"),
        state=base_dir / string(raw.get("state", ".feedpub/state.sqlite"), f"{where}: state"),
        base_url=normalize_base_url(
            string(raw.get("base_url", DEFAULT_BASE_URL), f"{where}: base_url"),
            f"{where}: base_url",
        ),
        title=string(raw.get("title", DEFAULT_TITLE), f"{where}: title"),
        description=string(raw.get("description", ""), f"{where}: description"),
        language=string(raw.get("language", "en"), f"{where}: language"),
        max_items=positive_int(raw.get("max_items", DEFAULT_MAX_ITEMS), f"{where}: max_items"),
        include_drafts=boolean(raw.get("include_drafts", False), f"{where}: include_drafts"),
        min_quality=opt_int(raw.get("min_quality"), f"{where}: min_quality"),
        max_age_days=opt_number(raw.get("max_age_days"), f"{where}: max_age_days"),
        max_file_bytes=positive_int(
            raw.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES), f"{where}: max_file_bytes"
        ),
        hubs=tuple(
            _absolute_url(string(h, f"{where}: hubs"), f"{where}: hubs")
            for h in a_list(raw.get("hubs", []), f"{where}: hubs")
        ),
        archives=boolean(raw.get("archives", False), f"{where}: archives"),
        stylesheet=boolean(raw.get("stylesheet", True), f"{where}: stylesheet"),
        icon=_opt_url(raw.get("icon"), f"{where}: icon"),
        logo=_opt_url(raw.get("logo"), f"{where}: logo"),
        topics=_policies(raw.get("topics", {}), f"{where}: topics"),
        providers=_policies(raw.get("providers", {}), f"{where}: providers"),
        links=_link_policy(raw.get("links", {}), f"{where}: links"),
        feeds=parse_custom_feeds(raw.get("feeds", {}), f"{where}: feeds"),
        top_stories=parse_top_stories(raw.get("top_stories"), f"{where}: top_stories"),
        match_keywords=boolean(raw.get("match_keywords", False), f"{where}: match_keywords"),
        allow_shrink=boolean(raw.get("allow_shrink", False), f"{where}: allow_shrink"),
        max_shrink=_share(raw.get("max_shrink", DEFAULT_MAX_SHRINK), f"{where}: max_shrink"),
        max_feed_bytes=positive_int(
            raw.get("max_feed_bytes", DEFAULT_MAX_FEED_BYTES), f"{where}: max_feed_bytes"
        ),
        deploy=parse_deploy_settings(raw.get("deploy", {}), f"{where}: deploy"),
    )
    return config


def _share(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(f"{where} must be a share above 0 and at most 1, got {value!r}")
    return float(value)


def _absolute_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {url!r} is not an absolute http(s) URL")
    return url


def _opt_url(value: object, where: str) -> str | None:
    return None if value is None else _absolute_url(string(value, where), where)


def _policies(raw: object, where: str) -> dict[str, FeedPolicy]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    policies: dict[str, FeedPolicy] = {}
    for key, value in raw.items():
        here = f"{where}.{key}"
        if not isinstance(value, Mapping):
            raise ConfigError(f"{here} must be a table")
        reject_unknown(value, _POLICY_KEYS, here)
        policies[str(key)] = FeedPolicy(
            title=opt_str(value.get("title"), f"{here}: title"),
            description=opt_str(value.get("description"), f"{here}: description"),
            max_items=opt_positive_int(value.get("max_items"), f"{here}: max_items"),
            min_quality=opt_int(value.get("min_quality"), f"{here}: min_quality"),
            max_age_days=opt_number(value.get("max_age_days"), f"{here}: max_age_days"),
            enabled=boolean(value.get("enabled", True), f"{here}: enabled"),
            icon=_opt_url(value.get("icon"), f"{here}: icon"),
            logo=_opt_url(value.get("logo"), f"{here}: logo"),
        )
    return policies


def _link_policy(raw: object, where: str) -> LinkPolicy:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    reject_unknown(raw, _LINK_KEYS, where)
    default = LinkPolicy()
    on_dead = raw.get("on_dead", default.on_dead.value)
    if on_dead not in {o.value for o in OnDead}:
        raise ConfigError(f'{where}: on_dead must be "drop", "flag" or "keep", got {on_dead!r}')

    def seconds(key: str, fallback: float) -> float:
        return positive_seconds(raw.get(key, fallback), f"{where}: {key}")

    def hours(key: str, fallback: timedelta) -> timedelta:
        value = opt_number(raw.get(key), f"{where}: {key}")
        return fallback if value is None else timedelta(hours=value)

    return LinkPolicy(
        timeout=positive_seconds(raw.get("timeout", default.timeout), f"{where}: timeout"),
        concurrency=positive_int(
            raw.get("concurrency", default.concurrency), f"{where}: concurrency"
        ),
        per_host=positive_int(raw.get("per_host", default.per_host), f"{where}: per_host"),
        allow_private=boolean(raw.get("allow_private", False), f"{where}: allow_private"),
        on_dead=OnDead(str(on_dead)),
        confirm_after=hours("confirm_after", default.confirm_after),
        ttl_alive=hours("ttl_alive", default.ttl_alive),
        ttl_dead=hours("ttl_dead", default.ttl_dead),
        ttl_blocked=hours("ttl_blocked", default.ttl_blocked),
        ttl_unknown=hours("ttl_unknown", default.ttl_unknown),
        url_deadline=seconds("url_deadline", default.url_deadline),
        run_deadline=seconds("run_deadline", default.run_deadline),
        network_down_minutes=_positive_number(
            raw.get("network_down_minutes", default.network_down_minutes),
            f"{where}: network_down_minutes",
            "minutes",
        ),
    )


def _positive_number(value: object, where: str, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where} must be a number of {unit} above 0, got {value!r}")
    return float(value)


def positive_seconds(value: object, where: str) -> float:
    """A number of seconds above 0 (a timeout).

    Raises:
        ConfigError: the value is not a number, or not above 0.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where} must be a number of seconds above 0, got {value!r}")
    return float(value)
