"""feedpub: turn a folder of news articles into per-topic RSS, Atom and JSON feeds."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, FeedPolicy, load_config
from .errors import ConfigError, FeedpubError, LockError, OutputError, SourceError
from .group import group_articles
from .model import Article, Feed, FeedKind, Image, LoadResult, Provider, Rejection, Related, Topic
from .publish import BuildReport, build
from .sources import load_sources

__all__ = [
    "Article",
    "BuildReport",
    "Config",
    "ConfigError",
    "Feed",
    "FeedKind",
    "FeedPolicy",
    "FeedpubError",
    "Image",
    "LoadResult",
    "LockError",
    "OutputError",
    "Provider",
    "Rejection",
    "Related",
    "SourceError",
    "Topic",
    "__version__",
    "build",
    "group_articles",
    "load_config",
    "load_sources",
]
