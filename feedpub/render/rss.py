"""RSS 2.0, with Atom self links and Media RSS images."""

from __future__ import annotations

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
        fg.description(channel_description(feed.description or feed.title))
        data: bytes = fg.rss_str(pretty=True)
        return add_stylesheet_pi(data, ctx.stylesheet_url) if ctx.stylesheet_url else data


def channel_description(text: str) -> str:
    """The channel's ``<description>``: plain text, as RSS 2.0 and the W3C validator
    take it, with every ``<`` and ``>`` escaped.

    Some readers show it as HTML: escaped, a topic named "<img onerror=…>" shows as
    text there too. Nothing else is escaped: no character reference can open a tag,
    and "&amp;" or "&#x27;" would be shown as such by the readers that take it as text
    (and draw the validator's warning of HTML in a description).
    """
    return text.replace("<", "&lt;").replace(">", "&gt;")
