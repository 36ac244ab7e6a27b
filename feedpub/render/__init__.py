"""One renderer per format, behind one small Protocol."""

from __future__ import annotations

from typing import Protocol

from ..model import Article, Feed
from .atom import AtomRenderer
from .context import RenderContext
from .jsonfeed import JsonFeedRenderer
from .rss import RssRenderer


class Renderer(Protocol):
    name: str
    filename: str
    media_type: str

    def render(self, feed: Feed[Article], ctx: RenderContext) -> bytes: ...


RENDERERS: tuple[Renderer, ...] = (RssRenderer(), AtomRenderer(), JsonFeedRenderer())

__all__ = ["RENDERERS", "RenderContext", "Renderer"]
