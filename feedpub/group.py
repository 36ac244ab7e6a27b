"""Pure selection: drafts out, duplicates merged, feeds grouped, ordered and cut.

Nothing here touches the file system or the clock: ``now`` comes in as an
argument, so the same input always gives the same feeds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from .config import Config, FeedPolicy, LinkPolicy, OnDead
from .editorial.select import (
    TopicSlugs,
    add_keyword_topics,
    compile_filter,
    top_stories,
)
from .model import (
    ArticleHead,
    Feed,
    FeedKind,
    LinkResult,
    LinkState,
    LoadResult,
    Selection,
)
from .taxonomy import Taxonomy, build_taxonomy, normalize_name

# Lowercase scheme and host, no userinfo, port or fragment, a path or nothing after the host.
_ALREADY_CANONICAL = re.compile(r"https?://[a-z0-9.-]*[a-z0-9-](?:/[^#]*)?")


def canonical_url(url: str) -> str:
    """The URL two files must share to be the same story.

    Scheme and host are case-insensitive, a default port and the fragment say
    nothing about the page (RFC 3986 § 6.2.2-6.2.3); path and query are kept.
    """
    if _ALREADY_CANONICAL.fullmatch(url):  # most URLs: no parsing needed
        return url if url.find("/", url.find("//") + 2) > 0 else url + "/"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else f"{host}:{port}"
    )
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


# A story dated this little ahead of the build's clock is published: the clock of
# the machine that wrote it may run a little fast. Feed dates can be this far ahead.
SCHEDULE_GRACE = timedelta(seconds=60)


def order_key(article: ArticleHead) -> tuple[float, int, str, str]:
    """Newest first; the same instant → higher quality first; then id, then path."""
    return (-article.published.timestamp(), -article.quality, article.key, article.path)


def _better(candidate: ArticleHead, kept: ArticleHead) -> bool:
    """Of two files with one URL, keep the higher quality, then the newer, then the first path."""
    a = (candidate.quality, candidate.published, _neg(candidate.path))
    b = (kept.quality, kept.published, _neg(kept.path))
    return a > b


def _neg(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def hold_scheduled(
    articles: Iterable[ArticleHead], now: datetime
) -> tuple[list[ArticleHead], list[ArticleHead]]:
    """Split off the stories dated after ``now`` (plus SCHEDULE_GRACE): they wait for their date.

    Drafts stay with the others, to be counted as drafts.
    """
    ready: list[ArticleHead] = []
    held: list[ArticleHead] = []
    release_after = now + SCHEDULE_GRACE
    for article in articles:
        waiting = article.published > release_after and not article.draft
        (held if waiting else ready).append(article)
    return ready, held


def select_articles(
    articles: Iterable[ArticleHead], include_drafts: bool
) -> tuple[list[ArticleHead], int, int]:
    """Drop drafts (unless asked) and merge duplicates by canonical URL.

    Returns the kept articles in feed order, the number of drafts left out and
    the number of duplicate files merged away.
    """
    drafts = 0
    by_url: dict[str, ArticleHead] = {}
    duplicates = 0
    for article in articles:
        if article.draft and not include_drafts:
            drafts += 1
            continue
        url = canonical_url(article.url)
        kept = by_url.get(url)
        if kept is None:
            by_url[url] = article
            continue
        duplicates += 1
        if _better(article, kept):
            by_url[url] = article
    kept_articles = sorted(by_url.values(), key=order_key)
    return _distinct_updates(_unique_keys(kept_articles)), drafts, duplicates


def _unique_keys(articles: list[ArticleHead]) -> list[ArticleHead]:
    """Two different stories may come from files of one name in two sources: keep ids distinct."""
    if len({a.key for a in articles}) == len(articles):
        return articles
    seen: dict[str, int] = {}
    result: list[ArticleHead] = []
    for article in sorted(articles, key=lambda a: (a.key, a.path)):
        count = seen.get(article.key, 0)
        seen[article.key] = count + 1
        if count:
            article = replace(article, key=f"{article.key}-{count + 1}")
        result.append(article)
    result.sort(key=order_key)
    return result


def _distinct_updates(articles: list[ArticleHead]) -> list[ArticleHead]:
    """Give stories published at one instant distinct Atom ``updated`` values.

    Feed readers and the W3C validator take two entries with one ``updated``
    as a mistake. Each story in such a group is moved up by 1-999 ms, chosen
    from a hash of its own id, so the shift never depends on the others. A
    group of more than 999 (a scraper that dates every story at midnight)
    also takes microseconds, so it stays within the second.
    """
    # ``articles`` is in feed order, newest first: equal instants are neighbours.
    runs: list[list[int]] = []
    for index in range(1, len(articles)):
        if articles[index].published == articles[index - 1].published:
            if runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            else:
                runs.append([index - 1, index])
    result = list(articles)
    for indexes in runs:
        instant = articles[indexes[0]].published
        used: set[int] = set()
        slots = max(999, len(indexes))  # never fewer slots than stories: the probe ends
        for index in sorted(indexes, key=lambda i: articles[i].key):
            digest = hashlib.sha1(articles[index].key.encode("utf-8")).digest()
            slot = int.from_bytes(digest[:4], "big") % slots
            while slot in used:
                slot = (slot + 1) % slots
            used.add(slot)
            shift = timedelta(milliseconds=slot % 999 + 1, microseconds=slot // 999)
            result[index] = replace(articles[index], updated=instant + shift)
    return result


@dataclass(frozen=True, slots=True)
class _Limits:
    max_items: int
    min_quality: int | None
    max_age_days: float | None


def _limits(config: Config, policy: FeedPolicy | None) -> _Limits:
    p = policy or FeedPolicy()
    return _Limits(
        max_items=p.max_items if p.max_items is not None else config.max_items,
        min_quality=p.min_quality if p.min_quality is not None else config.min_quality,
        max_age_days=p.max_age_days if p.max_age_days is not None else config.max_age_days,
    )


def _select(items: Sequence[ArticleHead], limits: _Limits, now: datetime) -> list[ArticleHead]:
    """The items a feed may show, newest first, before ``max_items`` cuts them."""
    cutoff = now - timedelta(days=limits.max_age_days) if limits.max_age_days is not None else None
    if limits.min_quality is None and cutoff is None:
        return list(items)
    return [
        a
        for a in items
        if (limits.min_quality is None or a.quality >= limits.min_quality)
        and (cutoff is None or a.published >= cutoff)
    ]


def _feed_and_archives(
    feed: Feed[ArticleHead], selected: list[ArticleHead], limits: _Limits, archives: bool
) -> list[Feed[ArticleHead]]:
    """The subscription feed (newest ``max_items``) and, if asked, its RFC 5005 archive pages.

    Archive pages are counted from the oldest item and hold ``max_items``
    items each; only full pages are published. New items never move an item
    between pages: a page changes when one of its own items does, and once
    more when the next page fills and it gains its ``next-archive`` link.
    """
    size = limits.max_items
    pages = len(selected) // size if archives else 0
    result = [replace(feed, items=tuple(selected[:size]), total=len(selected), pages=pages)]
    oldest_first = selected[::-1]
    for page in range(1, pages + 1):
        chunk = oldest_first[(page - 1) * size : page * size]
        result.append(
            replace(
                feed,
                folder=f"{feed.folder}/archive/{page}" if feed.folder else f"archive/{page}",
                items=tuple(reversed(chunk)),
                total=len(chunk),
                page=page,
                # All a page needs to know of the others: is there a newer one.
                pages=min(pages, page + 1),
            )
        )
    return result


def _policy_for(
    policies: Mapping[str, FeedPolicy], *names: str
) -> tuple[str, FeedPolicy] | tuple[None, None]:
    wanted = {normalize_name(n) for n in names if n}
    for key, policy in policies.items():
        if normalize_name(key) in wanted:
            return key, policy
    return None, None


def group_articles(loaded: LoadResult[ArticleHead], config: Config, now: datetime) -> Selection:
    """Select articles and build every feed: the site, each topic, each provider.

    Feeds are listed site first, then topics and providers by slug, so output
    order never depends on the file system.
    """
    ready, scheduled = hold_scheduled(loaded.articles, now)
    articles, drafts, duplicates = select_articles(ready, config.include_drafts)
    drafts += loaded.drafts_skipped
    gained = 0
    if config.match_keywords:
        articles, gained = add_keyword_topics(articles, loaded.topics, loaded.excerpts)
    taxonomy = build_taxonomy(articles, loaded.topics, loaded.providers)
    warnings = list(taxonomy.warnings)
    # Items show the provider as the taxonomy knows it: one name, a safe key.
    articles = [_resolved(a, taxonomy) for a in articles]

    site: Feed[ArticleHead] = Feed(
        kind=FeedKind.SITE,
        key="",
        folder="",
        title=config.title,
        description=config.description or f"Latest news from {config.title}",
        items=(),
        icon=config.icon,
        logo=config.logo,
    )
    limits = _limits(config, None)
    feeds = _feed_and_archives(site, _select(articles, limits, now), limits, config.archives)
    feeds.extend(_topic_feeds(articles, taxonomy, config, now, warnings))
    feeds.extend(_provider_feeds(articles, config, now, warnings))
    feeds.extend(_custom_feeds(articles, taxonomy, config, now, warnings, loaded.excerpts))
    feeds.extend(_top_feeds(articles, taxonomy, config, now, feeds))
    # An empty feed is dated by the newest story of the site (by the build's clock
    # only when there is none at all): never 1970, never later than the news.
    undated = _newest(articles) or now
    feeds = [f if f.items or f.updated else replace(f, updated=undated) for f in feeds]
    return Selection(
        articles=tuple(articles),
        feeds=tuple(feeds),
        drafts=drafts,
        duplicates=duplicates,
        warnings=tuple(warnings),
        keyword_topics=gained,
        scheduled=len(scheduled),
        next_release=min((a.published for a in scheduled), default=None),
    )


def _resolved(article: ArticleHead, taxonomy: Taxonomy) -> ArticleHead:
    """The article with its provider as the taxonomy knows it and its topics' slugs."""
    provider = taxonomy.provider(article.provider)
    slugs = tuple(topic.slug for topic in map(taxonomy.topic, article.topics) if topic is not None)
    if provider == article.provider and slugs == article.topic_slugs:
        return article
    return replace(article, provider=provider, topic_slugs=slugs)


@dataclass(frozen=True, slots=True)
class _Group:
    """The articles of one topic or provider, before the config's policy is applied."""

    key: str  # the slug or domain: the feed's folder name
    name: str
    description: str  # used when the config gives none
    items: list[ArticleHead]
    icon: str | None = None


def _topic_feeds(
    articles: Sequence[ArticleHead],
    taxonomy: Taxonomy,
    config: Config,
    now: datetime,
    warnings: list[str],
) -> list[Feed[ArticleHead]]:
    groups: dict[str, _Group] = {}
    for article in articles:
        for name in article.topics:
            topic = taxonomy.topic(name)
            if topic is None:
                continue
            group = groups.get(topic.slug)
            if group is None:
                description = (
                    topic.description or f"Latest news about {topic.name}, from {config.title}"
                )
                group = groups[topic.slug] = _Group(topic.slug, topic.name, description, [])
            if not group.items or group.items[-1] is not article:
                group.items.append(article)
    return _policy_feeds(FeedKind.TOPIC, groups, config.topics, config, now, warnings)


def _provider_feeds(
    articles: Sequence[ArticleHead], config: Config, now: datetime, warnings: list[str]
) -> list[Feed[ArticleHead]]:
    groups: dict[str, _Group] = {}
    for article in articles:
        provider = article.provider
        if provider is None:
            continue
        group = groups.get(provider.domain)
        if group is None:
            description = f"Latest stories from {provider.name}, selected by {config.title}"
            group = groups[provider.domain] = _Group(
                provider.domain, provider.name, description, [], provider.logo
            )
        group.items.append(article)
    return _policy_feeds(FeedKind.PROVIDER, groups, config.providers, config, now, warnings)


def _policy_feeds(
    kind: FeedKind,
    groups: Mapping[str, _Group],
    policies: Mapping[str, FeedPolicy],
    config: Config,
    now: datetime,
    warnings: list[str],
) -> list[Feed[ArticleHead]]:
    """One feed (and its archive pages) per group, as its ``[topics.x]``/``[providers.x]`` says."""
    section = "topics" if kind is FeedKind.TOPIC else "providers"
    matched: set[str] = set()
    feeds: list[Feed[ArticleHead]] = []
    for slug in sorted(groups):
        group = groups[slug]
        key, policy = _policy_for(policies, slug, group.name)
        if key is not None:
            matched.add(key)
        if policy is not None and not policy.enabled:
            continue
        limits = _limits(config, policy)
        # Branding: the feed's own config, else the provider's logo, else the site's;
        # a pair is never mixed from two sources.
        if policy is not None and (policy.icon or policy.logo):
            icon, logo = policy.icon, policy.logo
        elif group.icon:
            icon = logo = group.icon
        else:
            icon, logo = config.icon, config.logo
        feed: Feed[ArticleHead] = Feed(
            kind=kind,
            key=slug,
            folder=f"{section}/{slug}",
            title=(policy.title if policy and policy.title else f"{group.name} — {config.title}"),
            description=(policy.description if policy and policy.description else None)
            or group.description,
            items=(),
            icon=icon,
            logo=logo,
        )
        selected = _select(group.items, limits, now)
        feeds.extend(_feed_and_archives(feed, selected, limits, config.archives))
    what = "topic" if kind is FeedKind.TOPIC else "provider"
    for key in sorted(set(policies) - matched):
        warnings.append(f"config: [{section}.{key}] matches no {what} of the published articles")
    return feeds


def _custom_feeds(
    articles: Sequence[ArticleHead],
    taxonomy: Taxonomy,
    config: Config,
    now: datetime,
    warnings: list[str],
    excerpts: Mapping[str, str],
) -> list[Feed[ArticleHead]]:
    """One feed (and its archive pages) per ``[feeds.<slug>]`` table, in slug order."""
    slugs_of = TopicSlugs(taxonomy)
    feeds: list[Feed[ArticleHead]] = []
    for slug in sorted(config.feeds):
        spec = config.feeds[slug]
        accepts = compile_filter(spec, taxonomy, warnings, excerpts).accepts
        policy = FeedPolicy(
            max_items=spec.max_items,
            min_quality=spec.min_quality,
            max_age_days=spec.max_age_days,
        )
        limits = _limits(config, policy)
        feed: Feed[ArticleHead] = Feed(
            kind=FeedKind.CUSTOM,
            key=slug,
            folder=f"feeds/{slug}",
            title=spec.title,
            description=spec.description or f"{spec.title}, selected by {config.title}",
            items=(),
            icon=config.icon,
            logo=config.logo,
        )
        selected = _select([a for a in articles if accepts(a, slugs_of(a))], limits, now)
        if not selected:  # only an empty feed needs a date of its own
            feed = replace(feed, updated=_newest(articles))
        feeds.extend(_feed_and_archives(feed, selected, limits, config.archives))
    return feeds


def _top_feeds(
    articles: Sequence[ArticleHead],
    taxonomy: Taxonomy,
    config: Config,
    now: datetime,
    feeds: Sequence[Feed[ArticleHead]],
) -> list[Feed[ArticleHead]]:
    """The top-stories feed of the site and, with ``per_topic``, of each published topic."""
    spec = config.top_stories
    if spec is None:
        return []
    floor = _Limits(max_items=spec.max_items, min_quality=config.min_quality, max_age_days=None)
    newest = _newest(articles)

    def top_feed(
        key: str,
        folder: str,
        title: str,
        description: str,
        items: Sequence[ArticleHead],
        brand: Feed[ArticleHead] | None = None,
    ) -> Feed[ArticleHead]:
        ranked = top_stories(_select(items, floor, now), spec, now)
        return Feed(
            kind=FeedKind.TOP,
            key=key,
            folder=folder,
            title=title,
            description=description,
            items=tuple(a for _, a in ranked),
            total=len(ranked),
            ranks=tuple(rank for rank, _ in ranked),
            updated=None if ranked else newest,
            # A topic's top stories wear the topic feed's branding; the site's, the site's.
            icon=brand.icon if brand else config.icon,
            logo=brand.logo if brand else config.logo,
        )

    days = f"{spec.window_days:g} day{'' if spec.window_days == 1 else 's'}"
    result = [
        top_feed(
            "",
            "top",
            spec.title or f"Top stories — {config.title}",
            spec.description or f"The best stories of the last {days}, from {config.title}",
            articles,
        )
    ]
    if spec.per_topic:
        slugs_of = TopicSlugs(taxonomy)
        names = {t.slug: t.name for t in taxonomy.topics.values()}
        members: dict[str, list[ArticleHead]] = {}
        for article in articles:
            for slug in slugs_of(article):
                members.setdefault(slug, []).append(article)
        for feed in feeds:
            if feed.kind is FeedKind.TOPIC and not feed.page:
                name = names.get(feed.key, feed.key)
                result.append(
                    top_feed(
                        feed.key,
                        f"{feed.folder}/top",
                        f"Top stories: {name} — {config.title}",
                        f"The best stories about {name} of the last {days}, from {config.title}",
                        members.get(feed.key, []),
                        feed,
                    )
                )
    return result


def _newest(articles: Sequence[ArticleHead]) -> datetime | None:
    return max((a.updated_at for a in articles), default=None)


@dataclass(frozen=True, slots=True)
class DeadLinkStory:
    """A story the link policy acted on: its file, its URL, what was done and why."""

    path: str
    url: str
    action: str  # "dropped" or "flagged"
    reason: str  # e.g. "HTTP 404 Not Found; dead since 2024-06-01 12:00 UTC, 3 checks"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "url": self.url, "action": self.action, "reason": self.reason}


def apply_link_policy(
    articles: Iterable[ArticleHead], links: Mapping[str, LinkResult], policy: LinkPolicy
) -> tuple[tuple[ArticleHead, ...], tuple[DeadLinkStory, ...]]:
    """Drop or flag the articles whose link is confirmed dead, as ``policy.on_dead`` says.

    Only a link seen dead on two checks at least ``confirm_after`` apart
    counts; blocked, unknown and skipped links never cost an article. Returns
    the articles kept (in their order, flagged ones with ``link_state=DEAD``)
    and a record of each story dropped or flagged, in the articles' order.
    """
    kept: list[ArticleHead] = []
    acted: list[DeadLinkStory] = []
    for article in articles:
        result = links.get(article.url)
        if result is None or not result.confirmed_dead(policy.confirm_after):
            kept.append(article)
        elif policy.on_dead is OnDead.DROP:
            acted.append(DeadLinkStory(article.path, article.url, "dropped", _why(result)))
        elif policy.on_dead is OnDead.FLAG:
            kept.append(replace(article, link_state=LinkState.DEAD))
            acted.append(DeadLinkStory(article.path, article.url, "flagged", _why(result)))
        else:
            kept.append(article)
    return tuple(kept), tuple(acted)


def _why(result: LinkResult) -> str:
    what = result.error or (f"HTTP {result.http_status}" if result.http_status else "dead")
    since = f"{result.dead_since:%Y-%m-%d %H:%M} UTC" if result.dead_since else "?"
    return f"{what}; dead since {since}, {result.dead_checks} checks"
