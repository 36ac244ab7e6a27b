"""Pure grouping: the selected stories into the site's, topics', providers' and custom feeds.

Nothing here touches the file system or the clock: ``now`` comes in as an
argument, so the same input always gives the same feeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .config import Config, FeedPolicy
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
    LoadResult,
    Provider,
    Selection,
)
from .selection import hold_scheduled, select_articles
from .taxonomy import Taxonomy, build_taxonomy, normalize_name


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


def feed_limits(config: Config, feed: Feed[ArticleHead], name: str) -> tuple[int, int | None]:
    """``max_items`` and ``min_quality`` of the site's feed, a topic's or a provider's
    (``name``: the topic's or provider's, which its config table may be keyed by)."""
    policy = None
    if feed.kind is FeedKind.TOPIC:
        policy = _policy_for(config.topics, feed.key, name)[1]
    elif feed.kind is FeedKind.PROVIDER:
        policy = _policy_for(config.providers, feed.key, name)[1]
    limits = _limits(config, policy)
    return limits.max_items, limits.min_quality


def group_articles(loaded: LoadResult[ArticleHead], config: Config, now: datetime) -> Selection:
    """Select articles and build every feed: the site, each topic, each provider.

    Feeds are listed site first, then topics and providers by slug, so output
    order never depends on the file system.
    """
    return group_with_taxonomy(loaded, config, now)[0]


def group_with_taxonomy(
    loaded: LoadResult[ArticleHead], config: Config, now: datetime
) -> tuple[Selection, Taxonomy]:
    """``group_articles``, and the taxonomy the feeds were made with."""
    ready, scheduled = hold_scheduled(loaded.articles, now)
    articles, drafts, duplicates = select_articles(ready, config.include_drafts)
    drafts += loaded.drafts_skipped
    gained = 0
    if config.match_keywords:
        articles, gained = add_keyword_topics(articles, loaded.topics, loaded.excerpts)
    taxonomy = build_taxonomy(articles, loaded.topics, loaded.providers)
    warnings = list(taxonomy.warnings)
    # Items show the provider as the taxonomy knows it: one name, a safe key.
    articles = resolved(articles, taxonomy)

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
    selection = Selection(
        articles=tuple(articles),
        feeds=tuple(feeds),
        drafts=drafts,
        duplicates=duplicates,
        warnings=tuple(warnings),
        keyword_topics=gained,
        scheduled=len(scheduled),
        next_release=min((a.published for a in scheduled), default=None),
    )
    return selection, taxonomy


def resolved(articles: Sequence[ArticleHead], taxonomy: Taxonomy) -> list[ArticleHead]:
    """Each article with its provider as the taxonomy knows it and its topics' slugs.

    Articles share their provider and topics tuples (the cache hands out one
    object per distinct value), so each is resolved once, not once per article.
    """
    providers: dict[int, tuple[Provider | None, Provider | None]] = {}
    slugs_of: dict[tuple[str, ...], tuple[str, ...]] = {}
    resolved: list[ArticleHead] = []
    for article in articles:
        known = providers.get(id(article.provider))
        if known is None or known[0] is not article.provider:
            known = providers[id(article.provider)] = (
                article.provider,
                taxonomy.provider(article.provider),
            )
        provider = known[1]
        slugs = slugs_of.get(article.topics)
        if slugs is None:
            slugs = slugs_of[article.topics] = tuple(
                topic.slug for topic in map(taxonomy.topic, article.topics) if topic is not None
            )
        # An equal provider that is another object is copied in too: same output.
        if provider is article.provider and slugs == article.topic_slugs:
            resolved.append(article)
        else:
            resolved.append(article.with_taxonomy(provider, slugs))
    return resolved


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
