"""RSS 2.0, with Atom self links and Media RSS images."""

from __future__ import annotations

from html import escape

from ..model import Article, Feed
from ._feedgen import new_generator
from .context import RenderContext
from .stylesheet import add_stylesheet_pi


class RssRenderer:
    name = "rss"
    filename = "rss.xml"
    media_type = "application/rss+xml"

    def render(self, feed: Feed[Article], ctx: RenderContext) -> bytes:
        fg = new_generator(
            feed, ctx, ctx.file_url(feed, self.filename), self.media_type, self.filename, rss=True
        )
        # Readers take the channel <description> as HTML, like an item's (RSS 2.0
        # leaves it open); a topic named "<img onerror=…>" must show as text. Only
        # what HTML text needs (& < >): "Marc's" must not reach readers as "Marc&#x27;s".
        fg.description(escape(feed.description or feed.title, quote=False))
        data: bytes = fg.rss_str(pretty=True)
        return add_stylesheet_pi(data, ctx.stylesheet_url) if ctx.stylesheet_url else data
