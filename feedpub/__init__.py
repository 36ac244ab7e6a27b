"""feedpub: turn a folder of news articles into per-topic RSS, Atom and JSON feeds.

The public API is the export table below, and nothing else; a test holds it
to the list in docs/api.md. Imports are lazy (PEP 562): a cron run that finds
nothing changed must not pay for loading the renderers or the link checker.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# name → the module that defines it
_EXPORTS = {
    "Article": "model",
    "ArticleBody": "model",
    "ArticleHead": "model",
    "ArticleKind": "model",
    "BuildReport": "report",
    "Config": "config",
    "ConfigError": "errors",
    "Feed": "model",
    "FeedKind": "model",
    "FeedPolicy": "config",
    "FeedpubError": "errors",
    "Image": "model",
    "LinkCheck": "publish",
    "LinkChecker": "links",
    "LinkPolicy": "config",
    "LinkReport": "links",
    "LinkResult": "model",
    "LinkState": "model",
    "LoadResult": "model",
    "LockError": "errors",
    "OnDead": "config",
    "OutputError": "errors",
    "Provider": "model",
    "Rejection": "model",
    "Related": "model",
    "Selection": "model",
    "ServeError": "errors",
    "SourceError": "errors",
    "StateError": "errors",
    "Topic": "model",
    "build": "publish",
    "check_links": "links",
    "check_site_links": "publish",
    "group_articles": "group",
    "load_config": "config",
    "load_sources": "sources",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # the same names, for type checkers (a test holds the two equal)
    from .config import Config as Config
    from .config import FeedPolicy as FeedPolicy
    from .config import LinkPolicy as LinkPolicy
    from .config import OnDead as OnDead
    from .config import load_config as load_config
    from .errors import ConfigError as ConfigError
    from .errors import FeedpubError as FeedpubError
    from .errors import LockError as LockError
    from .errors import OutputError as OutputError
    from .errors import ServeError as ServeError
    from .errors import SourceError as SourceError
    from .errors import StateError as StateError
    from .group import group_articles as group_articles
    from .links import LinkChecker as LinkChecker
    from .links import LinkReport as LinkReport
    from .links import check_links as check_links
    from .model import Article as Article
    from .model import ArticleBody as ArticleBody
    from .model import ArticleHead as ArticleHead
    from .model import ArticleKind as ArticleKind
    from .model import Feed as Feed
    from .model import FeedKind as FeedKind
    from .model import Image as Image
    from .model import LinkResult as LinkResult
    from .model import LinkState as LinkState
    from .model import LoadResult as LoadResult
    from .model import Provider as Provider
    from .model import Rejection as Rejection
    from .model import Related as Related
    from .model import Selection as Selection
    from .model import Topic as Topic
    from .publish import LinkCheck as LinkCheck
    from .publish import build as build
    from .publish import check_site_links as check_site_links
    from .report import BuildReport as BuildReport
    from .sources import load_sources as load_sources


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'feedpub' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
