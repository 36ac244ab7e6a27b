"""feedpub: turn a folder of news articles into per-topic RSS, Atom and JSON feeds.

The public API is re-exported here. Imports are lazy (PEP 562): a cron run
that finds nothing changed must not pay for loading the renderers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Article": "model",
    "BuildReport": "publish",
    "Config": "config",
    "ConfigError": "errors",
    "Feed": "model",
    "FeedKind": "model",
    "FeedPolicy": "config",
    "LinkChecker": "links.check",
    "LinkPolicy": "config",
    "LinkReport": "links.check",
    "LinkResult": "model",
    "LinkState": "model",
    "OnDead": "config",
    "check_links": "links.check",
    "FeedpubError": "errors",
    "Image": "model",
    "LoadResult": "model",
    "LockError": "errors",
    "OutputError": "errors",
    "Provider": "model",
    "Rejection": "model",
    "Related": "model",
    "SourceError": "errors",
    "Topic": "model",
    "build": "publish",
    "group_articles": "group",
    "load_config": "config",
    "load_sources": "sources",
}

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

if TYPE_CHECKING:
    from .config import Config, FeedPolicy, LinkPolicy, OnDead, load_config
    from .errors import ConfigError, FeedpubError, LockError, OutputError, SourceError
    from .group import group_articles
    from .links.check import LinkChecker, LinkReport, check_links
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
    from .sources import load_sources


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'feedpub' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
