"""Atom 1.0 (RFC 4287), with Media RSS images."""

from __future__ import annotations

from ..model import Article, Feed
from ._feedgen import new_generator
from .context import RenderContext
from .stylesheet import add_stylesheet_pi


class AtomRenderer:
    name = "atom"
    filename = "atom.xml"
    media_type = "application/atom+xml"

    def render(self, feed: Feed[Article], ctx: RenderContext) -> bytes:
        fg = new_generator(
            feed, ctx, ctx.file_url(feed, self.filename), self.media_type, self.filename, rss=False
        )
        data: bytes = fg.atom_str(pretty=True)
        return add_stylesheet_pi(data, ctx.stylesheet_url) if ctx.stylesheet_url else data
