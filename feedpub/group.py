"""Pure selection: drafts out, duplicates merged, feeds grouped, ordered and cut.

Nothing here touches the file system or the clock: ``now`` comes in as an
argument, so the same input always gives the same feeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from .config import Config, FeedPolicy
from .model import Article, Feed, FeedKind, LoadResult, Selection
from .taxonomy import Taxonomy, build_taxonomy, normalize_name


def canonical_url(url: str) -> str:
    """The URL two files must share to be the same story.

    Scheme and host are case-insensitive, a default port and the fragment say
    nothing about the page (RFC 3986 § 6.2.2-6.2.3); path and query are kept.
    """
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


def order_key(article: Article) -> tuple[float, int, str, str]:
    """Newest first; the same instant → higher quality first; then id, then path."""
    return (-article.published.timestamp(), -article.quality, article.key, article.path)


def _better(candidate: Article, kept: Article) -> bool:
    """Of two files with one URL, keep the higher quality, then the newer, then the first path."""
    a = (candidate.quality, candidate.published, _neg(candidate.path))
    b = (kept.quality, kept.published, _neg(kept.path))
    return a > b


def _neg(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def select_articles(
    articles: Iterable[Article], include_drafts: bool
) -> tuple[list[Article], int, int]:
    """Drop drafts (unless asked) and merge duplicates by canonical URL.

    Returns the kept articles in feed order, the number of drafts left out and
    the number of duplicate files merged away.
    """
    drafts = 0
    by_url: dict[str, Article] = {}
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


def _unique_keys(articles: list[Article]) -> list[Article]:
    """Two different stories may come from files of one name in two sources: keep ids distinct."""
    seen: dict[str, int] = {}
    result: list[Article] = []
    for article in sorted(articles, key=lambda a: (a.key, a.path)):
        count = seen.get(article.key, 0)
        seen[article.key] = count + 1
        if count:
            article = replace(article, key=f"{article.key}-{count + 1}")
        result.append(article)
    result.sort(key=order_key)
    return result


def _distinct_updates(articles: list[Article]) -> list[Article]:
    """Give stories published at one instant distinct Atom ``updated`` values.

    Feed readers and the W3C validator take two entries with one ``updated``
    as a mistake. Each story in such a group is moved up by 1-999 ms, chosen
    from a hash of its own id, so the shift never depends on the others. A
    group of more than 999 (a scraper that dates every story at midnight)
    also takes microseconds, so it stays within the second.
    """
    by_instant: dict[datetime, list[int]] = {}
    for index, article in enumerate(articles):
        by_instant.setdefault(article.published, []).append(index)
    result = list(articles)
    for instant, indexes in by_instant.items():
        if len(indexes) < 2:
            continue
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


def _apply(
    items: Sequence[Article], limits: _Limits, now: datetime
) -> tuple[tuple[Article, ...], int]:
    cutoff = now - timedelta(days=limits.max_age_days) if limits.max_age_days is not None else None
    kept = [
        a
        for a in items
        if (limits.min_quality is None or a.quality >= limits.min_quality)
        and (cutoff is None or a.published >= cutoff)
    ]
    return tuple(kept[: limits.max_items]), len(kept)


def _policy_for(policies: Mapping[str, FeedPolicy], *names: str) -> FeedPolicy | None:
    wanted = {normalize_name(n) for n in names if n}
    for key, policy in policies.items():
        if normalize_name(key) in wanted:
            return policy
    return None


def group_articles(loaded: LoadResult, config: Config, now: datetime) -> Selection:
    """Select articles and build every feed: the site, each topic, each provider.

    Feeds are listed site first, then topics and providers by slug, so output
    order never depends on the file system.
    """
    articles, drafts, duplicates = select_articles(loaded.articles, config.include_drafts)
    taxonomy = build_taxonomy(articles, loaded.topics, loaded.providers)
    warnings = list(taxonomy.warnings)
    # Items show the provider as the taxonomy knows it: one name, a safe key.
    articles = [replace(a, provider=taxonomy.provider(a.provider)) for a in articles]

    site_items, site_total = _apply(articles, _limits(config, None), now)
    feeds: list[Feed] = [
        Feed(
            kind=FeedKind.SITE,
            key="",
            folder="",
            title=config.title,
            description=config.description or f"Latest news from {config.title}",
            items=site_items,
            total=site_total,
        )
    ]
    feeds.extend(_topic_feeds(articles, taxonomy, config, now, warnings))
    feeds.extend(_provider_feeds(articles, config, now))
    return Selection(
        articles=tuple(articles),
        feeds=tuple(feeds),
        drafts=drafts,
        duplicates=duplicates,
        warnings=tuple(warnings),
    )


def _topic_feeds(
    articles: Sequence[Article],
    taxonomy: Taxonomy,
    config: Config,
    now: datetime,
    warnings: list[str],
) -> list[Feed]:
    members: dict[str, list[Article]] = {}
    topics_by_slug = {}
    for article in articles:
        for name in article.topics:
            topic = taxonomy.topic(name)
            if topic is None:
                continue
            topics_by_slug[topic.slug] = topic
            bucket = members.setdefault(topic.slug, [])
            if not bucket or bucket[-1] is not article:
                bucket.append(article)
    matched: set[str] = set()
    feeds: list[Feed] = []
    for slug in sorted(members):
        topic = topics_by_slug[slug]
        policy = _policy_for(config.topics, slug, topic.name)
        if policy is not None:
            matched.add(
                next(
                    k
                    for k in config.topics
                    if normalize_name(k) in {slug, normalize_name(topic.name)}
                )
            )
        if policy is not None and not policy.enabled:
            continue
        items, total = _apply(members[slug], _limits(config, policy), now)
        feeds.append(
            Feed(
                kind=FeedKind.TOPIC,
                key=slug,
                folder=f"topics/{slug}",
                title=(
                    policy.title if policy and policy.title else f"{topic.name} — {config.title}"
                ),
                description=(
                    (policy.description if policy and policy.description else None)
                    or topic.description
                    or f"Latest news about {topic.name}, from {config.title}"
                ),
                items=items,
                total=total,
            )
        )
    for key in sorted(set(config.topics) - matched):
        warnings.append(f"config: [topics.{key}] matches no topic of the published articles")
    return feeds


def _provider_feeds(articles: Sequence[Article], config: Config, now: datetime) -> list[Feed]:
    members: dict[str, list[Article]] = {}
    providers = {}
    for article in articles:
        # Already resolved by group_articles: resolving again would look the slug
        # up as an identity and lose every provider whose slug is not its domain.
        provider = article.provider
        if provider is None:
            continue
        providers[provider.domain] = provider
        members.setdefault(provider.domain, []).append(article)
    feeds: list[Feed] = []
    for key in sorted(members):
        provider = providers[key]
        policy = _policy_for(config.providers, key, provider.name)
        if policy is not None and not policy.enabled:
            continue
        items, total = _apply(members[key], _limits(config, policy), now)
        feeds.append(
            Feed(
                kind=FeedKind.PROVIDER,
                key=key,
                folder=f"providers/{key}",
                title=(
                    policy.title if policy and policy.title else f"{provider.name} — {config.title}"
                ),
                description=(
                    (policy.description if policy and policy.description else None)
                    or f"Latest stories from {provider.name}, selected by {config.title}"
                ),
                items=items,
                total=total,
                icon=provider.logo,
            )
        )
    return feeds
