"""Excerpts for grouping: keyword rules read them, and loading leaves articles light."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..model import Article

if TYPE_CHECKING:
    from ..cache import ArticleCache
    from ..config import Config


def needs_excerpts(config: Config) -> bool:
    """Whether grouping matches keywords (a keyword feed, or ``match_keywords``)."""
    return config.match_keywords or any(spec.keywords for spec in config.feeds.values())


def with_excerpts(articles: Sequence[Article], cache: ArticleCache) -> tuple[Article, ...]:
    """The articles with their excerpt from the cache, and no other heavy field.

    Only the excerpt is kept: the HTML, images and related stories would cost
    memory for every article until rendering, which hydrates them again.
    """
    full = cache.hydrate(articles)
    result = []
    for article in articles:
        whole = full.get(article.path)
        excerpt = whole.excerpt if whole is not None else article.excerpt
        result.append(article if excerpt == article.excerpt else replace(article, excerpt=excerpt))
    return tuple(result)
