"""Immutable data passed between the stages of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    """Who published a story. ``domain`` is the provider's key and folder name."""

    name: str
    domain: str
    logo: str | None = None


@dataclass(frozen=True, slots=True)
class Related:
    """Another outlet's coverage of the same story."""

    title: str
    url: str
    provider: str | None = None
    published: datetime | None = None  # its publishedDateTime, when the source gives one


@dataclass(frozen=True, slots=True)
class Article:
    """One article file, loaded, validated and cleaned.

    Text fields are plain text: HTML entities decoded, characters illegal in
    XML 1.0 removed, whitespace folded. ``featured_html`` is raw HTML from the
    source; it is sanitized when rendered.
    """

    key: str  # stable identity: "<date>:<file stem>", survives edits of title and URL
    path: str
    title: str
    url: str
    published: datetime  # timezone-aware, UTC
    quality: int = 0
    heat: int = 0
    kind: str = "article"  # "article" or "video"
    excerpt: str = ""
    featured_html: str = ""
    provider: Provider | None = None
    topics: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    related: tuple[Related, ...] = ()
    draft: bool = False
    # Atom's updated; differs from published only to keep it distinct within a feed.
    updated: datetime | None = None
    digest: str = ""  # hash of the parsed content; a feed re-renders when one of its items' changes
    # Set by the link policy: "dead" when the story's link is confirmed dead and kept flagged.
    link_state: str | None = None
    # When the rendered content last changed (set from the state); Atom <updated>
    # and JSON Feed date_modified show it. None: never edited since first seen.
    modified: datetime | None = None
    # The taxonomy's slug of each of ``topics`` (its feed's folder name); set when grouping.
    topic_slugs: tuple[str, ...] = ()

    @property
    def updated_at(self) -> datetime:
        return self.updated or self.published


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic from the taxonomy (``_data/topics/*.yaml``)."""

    slug: str
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()


class FeedKind(StrEnum):
    SITE = "site"
    TOPIC = "topic"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed to publish, in every format: its identity, words and items.

    ``folder`` is the path below the output folder ("" for the whole site,
    "topics/<slug>", "providers/<domain>"); every URL is derived from it.
    """

    kind: FeedKind
    key: str
    folder: str
    title: str
    description: str
    items: tuple[Article, ...]
    total: int = 0  # items selected before max_items cut the list
    icon: str | None = None  # a small square image (favicon size)
    logo: str | None = None  # a larger one; either stands in for the other
    # RFC 5005 archives: page 0 is the subscription document, which links to
    # the newest of ``pages`` archive pages; page k >= 1 is an archive page.
    page: int = 0
    pages: int = 0

    @property
    def home(self) -> str:
        """The subscription document's folder, with a trailing slash ("" for the site)."""
        folder = (
            self.folder[: self.folder.rfind("archive/")].rstrip("/") if self.page else self.folder
        )
        return folder + "/" if folder else ""

    @property
    def older_page(self) -> int | None:
        """The archive page with the items just older than this document's, if any."""
        older = self.page - 1 if self.page else self.pages
        return older if older >= 1 else None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A source file that did not become an article, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Everything loading the sources produced."""

    articles: tuple[Article, ...]
    rejections: tuple[Rejection, ...]
    topics: tuple[Topic, ...] = ()
    providers: tuple[Provider, ...] = ()
    files_read: int = 0
    notes: tuple[str, ...] = ()
    drafts_skipped: int = 0  # drafts counted but not loaded (include_drafts is off)


@dataclass(frozen=True, slots=True)
class Selection:
    """Articles after drafts and duplicates are set aside, plus the feeds built from them."""

    articles: tuple[Article, ...]
    feeds: tuple[Feed, ...]
    drafts: int = 0
    duplicates: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)


class LinkState(StrEnum):
    """What a link check concluded; a class, not a raw status code."""

    ALIVE = "alive"  # 2xx after redirects
    DEAD = "dead"  # 404, 410, or the host name does not exist
    BLOCKED = "blocked"  # 401, 403, 429 after retries: the site refuses robots
    UNKNOWN = "unknown"  # timeouts, 5xx after retries, TLS and connection errors
    SKIPPED = "skipped"  # not requested by policy: private address, non-http scheme


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The latest check of one URL, with the history the publishing policy needs.

    ``dead_since`` is the time of the first of ``dead_checks`` checks in a row
    that found the link dead; any other result clears both.
    """

    url: str
    state: LinkState
    checked_at: datetime  # timezone-aware, UTC
    http_status: int | None = None
    final_url: str | None = None
    error: str | None = None
    first_checked: datetime | None = None
    consecutive_failures: int = 0
    dead_since: datetime | None = None
    dead_checks: int = 0

    def confirmed_dead(self, confirm_after: timedelta) -> bool:
        """Seen dead on two checks in a row at least ``confirm_after`` apart."""
        return (
            self.state is LinkState.DEAD
            and self.dead_checks >= 2
            and self.dead_since is not None
            and self.checked_at - self.dead_since >= confirm_after
        )
