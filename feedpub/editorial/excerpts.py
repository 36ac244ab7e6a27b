"""Excerpts for grouping: keyword rules read them, and a build's articles are light."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model import ArticleHead

if TYPE_CHECKING:
    from ..config import Config
    from ..store import ArticleCache


def needs_excerpts(config: Config) -> bool:
    """Whether grouping matches keywords (a keyword feed, or ``match_keywords``)."""
    return config.match_keywords or any(spec.keywords for spec in config.feeds.values())


def excerpts_of(articles: Sequence[ArticleHead], cache: ArticleCache) -> dict[str, str]:
    """The excerpt of every article, by path, from the cache (and no other heavy field)."""
    return {path: whole.excerpt for path, whole in cache.bodies(articles).items()}
