"""Pure selection for editorial feeds: keyword topics, custom-feed filters, top stories.

Nothing here reads the clock or the file system; ``now`` comes in as an
argument, so equal inputs give equal feeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..model import Article, ArticleHead, Topic
from ..taxonomy import Taxonomy, normalize_name
from .keywords import KeywordMatcher, compile_keywords
from .spec import CustomFeedSpec, TopStoriesSpec


def excerpt_of(article: ArticleHead, excerpts: Mapping[str, str]) -> str:
    """The excerpt keyword rules read: a whole article's own, else a light one's from
    ``excerpts`` (by path, as a build loads them)."""
    if isinstance(article, Article):
        return article.excerpt
    return excerpts.get(article.path, "")


def add_keyword_topics(
    articles: Sequence[ArticleHead], topics: Sequence[Topic], excerpts: Mapping[str, str]
) -> tuple[list[ArticleHead], int]:
    """File each article also under every topic whose ``keywords`` its title or excerpt matches.

    Declared topics stay, in their order; gained ones follow in slug order,
    under the taxonomy's name. An article that gains a topic gets a new
    ``digest``, so every feed showing it (its categories changed) is
    rendered again. Returns the articles and how many gained a topic.
    """
    known: dict[str, Topic] = {}
    for topic in topics:
        for alias in (topic.name, topic.slug):
            if alias:
                known.setdefault(normalize_name(alias), topic)
    matchers: list[tuple[Topic, KeywordMatcher]] = []
    seen: set[str] = set()
    for topic in sorted(topics, key=lambda t: (t.slug, t.name)):
        if topic.keywords and topic.name and topic.slug not in seen:
            seen.add(topic.slug)
            matchers.append((topic, compile_keywords(topic.keywords)))
    if not matchers:
        return list(articles), 0
    result: list[ArticleHead] = []
    gained = 0
    for article in articles:
        declared = {normalize_name(name) for name in article.topics}
        declared |= {
            normalize_name(known[n].name) for n in list(declared) if n in known and known[n].name
        }
        added = [
            topic.name
            for topic, matcher in matchers
            if normalize_name(topic.name) not in declared
            and matcher.matches(article.title, excerpt_of(article, excerpts))
        ]
        if not added:
            result.append(article)
            continue
        gained += 1
        digest = hashlib.sha1("\0".join([article.digest, *added]).encode("utf-8")).hexdigest()
        result.append(replace(article, topics=(*article.topics, *added), digest=digest))
    return result, gained


@dataclass(frozen=True, slots=True)
class CustomFilter:
    """A custom feed's filters, resolved against the taxonomy: topic slugs and provider keys."""

    topics_any: frozenset[str] | None
    topics_all: frozenset[str]
    exclude_topics: frozenset[str]
    providers: frozenset[str] | None
    exclude_providers: frozenset[str]
    kind: str | None
    keywords: KeywordMatcher | None
    excerpts: Mapping[str, str]

    def accepts(self, article: ArticleHead, topic_slugs: frozenset[str]) -> bool:
        """Whether ``article`` (filed under ``topic_slugs``) passes every filter (AND)."""
        if self.kind is not None and article.kind != self.kind:
            return False
        if self.topics_any is not None and not (topic_slugs & self.topics_any):
            return False
        if not self.topics_all <= topic_slugs or topic_slugs & self.exclude_topics:
            return False
        domain = article.provider.domain if article.provider is not None else None
        if self.providers is not None and domain not in self.providers:
            return False
        if domain is not None and domain in self.exclude_providers:
            return False
        if self.keywords is None:
            return True
        return self.keywords.matches(article.title, excerpt_of(article, self.excerpts))


def compile_filter(
    spec: CustomFeedSpec, taxonomy: Taxonomy, warnings: list[str], excerpts: Mapping[str, str]
) -> CustomFilter:
    """Resolve a spec's topic and provider names; one that matches nothing is a warning.

    A topic is named by its name or slug (case, spacing and Unicode form do not
    matter); a provider by its name or its domain (``www.`` aside).
    """
    where = f"config: [feeds.{spec.slug}]"

    def topic_slugs(key: str, names: Iterable[str]) -> frozenset[str]:
        slugs: set[str] = set()
        for name in names:
            slug = _topic_slug(taxonomy, name)
            if slug is None:
                warnings.append(
                    f"{where} {key}: {name!r} matches no topic of the published articles"
                )
                # Kept as a name no article carries: topics_all then matches nothing.
                slugs.add("\0" + name)
            else:
                slugs.add(slug)
        return frozenset(slugs)

    def provider_keys(key: str, names: Iterable[str]) -> frozenset[str]:
        keys: set[str] = set()
        for name in names:
            found = _provider_keys(taxonomy, name)
            if not found:
                warnings.append(
                    f"{where} {key}: {name!r} matches no provider of the published articles"
                )
            keys |= found
        return frozenset(keys)

    return CustomFilter(
        topics_any=topic_slugs("topics_any", spec.topics_any) if spec.topics_any else None,
        topics_all=topic_slugs("topics_all", spec.topics_all),
        exclude_topics=topic_slugs("exclude_topics", spec.exclude_topics),
        providers=provider_keys("providers", spec.providers) if spec.providers else None,
        exclude_providers=provider_keys("exclude_providers", spec.exclude_providers),
        kind=spec.kind,
        keywords=compile_keywords(spec.keywords) if spec.keywords else None,
        excerpts=excerpts,
    )


def _topic_slug(taxonomy: Taxonomy, name: str) -> str | None:
    topic = taxonomy.topic(name)
    if topic is not None:
        return topic.slug
    wanted = name.strip().lower()
    slugs = {t.slug for t in taxonomy.topics.values()}
    return wanted if wanted in slugs else None


def _provider_keys(taxonomy: Taxonomy, name: str) -> set[str]:
    wanted_name = normalize_name(name)
    wanted_domain = name.strip().lower().strip(".").removeprefix("www.")
    return {
        provider.domain
        for identity, provider in taxonomy.providers.items()
        if identity == wanted_domain
        or provider.domain == wanted_domain
        or normalize_name(provider.name) == wanted_name
    }


class TopicSlugs:
    """The topic slugs an article is filed under; articles share topic tuples, so it caches."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.cache: dict[tuple[str, ...], frozenset[str]] = {}

    def __call__(self, article: ArticleHead) -> frozenset[str]:
        slugs = self.cache.get(article.topics)
        if slugs is None:
            topics = (self.taxonomy.topic(name) for name in article.topics)
            slugs = self.cache[article.topics] = frozenset(t.slug for t in topics if t is not None)
        return slugs


def story_score(article: ArticleHead) -> int:
    """The top-stories score: quality + heat, a missing or negative value counting as 0."""
    return max(article.quality, 0) + max(article.heat, 0)


def top_stories(
    articles: Iterable[ArticleHead], spec: TopStoriesSpec, now: datetime
) -> list[tuple[int, ArticleHead]]:
    """The ``spec.max_items`` best stories published in the window, with their ranks (1 = best).

    The window is the ``window_days`` days up to ``now``, both ends included;
    stories dated after ``now`` are not in it. Higher score ranks first; an
    equal score goes to the newer story, then to the smaller id. The result
    is in feed order: newest first.
    """
    start = now - timedelta(days=spec.window_days)
    window = [a for a in articles if start <= a.published <= now]
    window.sort(key=lambda a: (-story_score(a), -a.published.timestamp(), a.key))
    ranked = list(enumerate(window[: spec.max_items], start=1))
    ranked.sort(key=lambda pair: (-pair[1].published.timestamp(), pair[0]))
    return ranked
