"""feedpub: turn a folder of news articles into per-topic RSS, Atom and JSON feeds."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, FeedPolicy, LinkPolicy, OnDead, load_config
from .errors import ConfigError, FeedpubError, LockError, OutputError, SourceError
from .group import group_articles
from .linkcheck import LinkChecker, LinkReport, check_links
from .load import load_sources
from .model import (
    Article,
    Feed,
    FeedKind,
    Image,
    LinkResult,
    LinkState,
    LoadResult,
    Provider,
    Rejection,
    Related,
    Topic,
)
from .publish import BuildReport, build

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
    "LinkChecker",
    "LinkPolicy",
    "LinkReport",
    "LinkResult",
    "LinkState",
    "LoadResult",
    "LockError",
    "OnDead",
    "OutputError",
    "Provider",
    "Rejection",
    "Related",
    "SourceError",
    "Topic",
    "__version__",
    "build",
    "check_links",
    "group_articles",
    "load_config",
    "load_sources",
]
