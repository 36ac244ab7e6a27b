"""Immutable data passed between the stages of the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar, cast


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


class ArticleKind(StrEnum):
    """What a story is; only a video is shown differently (its player, a "Watch" link)."""

    ARTICLE = "article"
    VIDEO = "video"


class LinkState(StrEnum):
    """What a link check concluded; a class, not a raw status code."""

    ALIVE = "alive"  # 2xx after redirects
    DEAD = "dead"  # 404, 410, or the host name does not exist
    BLOCKED = "blocked"  # 401, 403, 429 after retries: the site refuses robots
    UNKNOWN = "unknown"  # timeouts, 5xx after retries, TLS and connection errors
    SKIPPED = "skipped"  # not requested by policy: private address, non-http scheme


@dataclass(frozen=True, slots=True)
class ArticleBody:
    """The heavy half of an article: only the feeds being rendered need it.

    ``featured_html`` is raw HTML from the source; it is sanitized when rendered.
    """

    excerpt: str = ""
    featured_html: str = ""
    images: tuple[Image, ...] = ()
    related: tuple[Related, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleHead:
    """The light half of an article: all that selecting, grouping and ordering need.

    An incremental build reads one of these per file from the cache on every
    run; only the items of feeds that change get their body (``with_body``).
    Text fields are plain text: HTML entities decoded, characters illegal in
    XML 1.0 removed, whitespace folded.
    """

    key: str  # stable identity: "<date>:<file stem>", survives edits of title and URL
    path: str
    title: str
    url: str
    published: datetime  # timezone-aware, UTC
    quality: int = 0
    heat: int = 0
    kind: ArticleKind = ArticleKind.ARTICLE
    provider: Provider | None = None
    topics: tuple[str, ...] = ()
    draft: bool = False
    # Atom's updated; differs from published only to keep it distinct within a feed.
    updated: datetime | None = None
    digest: str = ""  # hash of the parsed content; a feed re-renders when one of its items' changes
    # Set by the link policy: DEAD when the story's link is confirmed dead and kept flagged.
    link_state: LinkState | None = None
    # When the rendered content last changed (set from the state); Atom <updated>
    # and JSON Feed date_modified show it. None: never edited since first seen.
    modified: datetime | None = None
    # The taxonomy's slug of each of ``topics`` (its feed's folder name); set when grouping.
    topic_slugs: tuple[str, ...] = ()

    @property
    def updated_at(self) -> datetime:
        return self.updated or self.published

    def with_taxonomy(self, provider: Provider | None, topic_slugs: tuple[str, ...]) -> ArticleHead:
        """This head with its provider and topic slugs as the taxonomy knows them.

        ``dataclasses.replace`` does the same through a dict of every field; grouping
        makes one per article of the site, so the fields are passed here directly
        (a test holds this to ``replace``). A whole ``Article`` keeps its body and type.
        """
        if self.__class__ is not ArticleHead:
            return replace(self, provider=provider, topic_slugs=topic_slugs)
        return ArticleHead(
            self.key,
            self.path,
            self.title,
            self.url,
            self.published,
            self.quality,
            self.heat,
            self.kind,
            provider,
            self.topics,
            self.draft,
            self.updated,
            self.digest,
            self.link_state,
            self.modified,
            topic_slugs,
        )

    def with_body(self, body: ArticleBody) -> Article:
        """The whole article: these fields and ``body``."""
        head = {f: getattr(self, f) for f in _HEAD_FIELDS}
        return Article(
            **head,
            excerpt=body.excerpt,
            featured_html=body.featured_html,
            images=body.images,
            related=body.related,
        )


@dataclass(frozen=True, slots=True)
class Article(ArticleHead):
    """One article file, loaded, validated and cleaned: its head and its body."""

    excerpt: str = ""
    featured_html: str = ""
    images: tuple[Image, ...] = ()
    related: tuple[Related, ...] = ()

    @property
    def body(self) -> ArticleBody:
        return ArticleBody(self.excerpt, self.featured_html, self.images, self.related)


_HEAD_FIELDS = tuple(f.name for f in fields(ArticleHead))
# A feed's items: light while grouping, whole when rendered (renderers take Feed[Article]).
Item = TypeVar("Item", bound=ArticleHead, covariant=True)
Whole = TypeVar("Whole", bound=ArticleHead)


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
    CUSTOM = "custom"  # a [feeds.<slug>] table of config.toml: feeds/<slug>/
    TOP = "top"  # top stories: top/, and topics/<slug>/top/ per topic


@dataclass(frozen=True, slots=True)
class Feed(Generic[Item]):
    """One feed to publish, in every format: its identity, words and items.

    ``folder`` is the path below the output folder ("" for the whole site,
    "topics/<slug>", "providers/<domain>"); every URL is derived from it.
    """

    kind: FeedKind
    key: str
    folder: str
    title: str
    description: str
    items: tuple[Item, ...]
    total: int = 0  # items selected before max_items cut the list
    icon: str | None = None  # a small square image (favicon size)
    logo: str | None = None  # a larger one; either stands in for the other
    # RFC 5005 archives: page 0 is the subscription document, which links to
    # the newest of ``pages`` archive pages; page k >= 1 is an archive page.
    page: int = 0
    pages: int = 0
    ranks: tuple[int, ...] = ()  # top stories: each item's rank (1 = best), in item order
    # The date of the feed when it has no item (a filter matching nothing yet):
    # the newest story of the site, so an empty feed's date is plausible and never the clock's.
    updated: datetime | None = None

    @property
    def home(self) -> str:
        """The subscription document's folder, with a trailing slash ("" for the site)."""
        folder = (
            self.folder[: self.folder.rfind("archive/")].rstrip("/") if self.page else self.folder
        )
        return folder + "/" if folder else ""

    def with_items(self, items: tuple[Whole, ...]) -> Feed[Whole]:
        """This feed with other items (its light ones made whole, for rendering)."""
        return cast("Feed[Whole]", replace(cast("Feed[Any]", self), items=items))

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
class LoadedFile:
    """What parsing one file gave: a whole article, or the reason it has none."""

    article: Article | None
    rejection: Rejection | None
    notes: tuple[str, ...] = ()
    sha1: str = ""  # of the file's bytes: the article is a function of them


class FileOutcome(NamedTuple):
    """One file's result as a build uses it: a light article or a rejection, and its notes.

    A NamedTuple, not a dataclass: one is made per file on every run.
    """

    article: ArticleHead | None
    rejection: Rejection | None
    notes: tuple[str, ...]
    sha1: str
    draft_skipped: bool = False  # a draft, read without building its article


@dataclass(frozen=True, slots=True)
class LoadResult(Generic[Item]):
    """Everything loading the sources produced: light articles from a build, whole ones
    from ``load_sources``."""

    articles: tuple[Item, ...]
    rejections: tuple[Rejection, ...]
    topics: tuple[Topic, ...] = ()
    providers: tuple[Provider, ...] = ()
    files_read: int = 0
    notes: tuple[str, ...] = ()
    drafts_skipped: int = 0  # drafts counted but not loaded (include_drafts is off)
    # Excerpts by path, for keyword rules, when grouping needs them (light articles have none).
    excerpts: Mapping[str, str] = field(default_factory=dict)
    # Each note of a file (of ``notes``), with the file's name, in the order of ``notes``.
    file_notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Selection:
    """Articles after drafts and duplicates are set aside, plus the feeds built from them."""

    articles: tuple[ArticleHead, ...]
    feeds: tuple[Feed[ArticleHead], ...]
    drafts: int = 0
    duplicates: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    scheduled: int = 0  # dated after the build's "now": held back until then
    next_release: datetime | None = None  # the earliest of those dates
    keyword_topics: int = 0  # articles that gained a topic from its keywords (match_keywords)


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
