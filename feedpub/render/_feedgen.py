"""Shared construction of RSS and Atom documents with feedgen.

feedgen pitfalls handled here: it dates feeds "now" unless told (we use the
newest item, so unchanged input gives unchanged bytes); it takes the RSS
channel link from the *last* link added (the alternate goes last); it
prepends entries unless told to append; and its Media RSS extension wraps
content in ``media:group`` unless the group is None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from feedgen.feed import FeedGenerator

from ..model import Article, Feed
from .content import DEAD_LINK_TAG, article_html
from .context import RenderContext

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR_URI = "https://pypi.org/project/feedpub/"


def feed_updated(feed: Feed) -> datetime:
    """The feed's date: its newest item's, never the clock."""
    return max((a.updated_at for a in feed.items), default=EPOCH)


def new_generator(feed: Feed, ctx: RenderContext, self_url: str, media_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("media", atom=True, rss=True)
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(self_url)
    fg.title(feed.title)
    fg.description(feed.description or feed.title)
    fg.language(ctx.language)
    fg.generator("feedpub", version=ctx.generator_version, uri=GENERATOR_URI)
    fg.link(href=self_url, rel="self", type=media_type)
    fg.link(href=ctx.folder_url(feed), rel="alternate", type="text/html")  # last: RSS <link>
    fg.updated(feed_updated(feed))
    return fg


def add_entry(fg: FeedGenerator, article: Article, ctx: RenderContext, *, atom: bool) -> None:
    fe = fg.add_entry(order="append")
    fe.title(article.title)
    fe.link(href=article.url, rel="alternate", type="text/html")
    fe.published(article.published)
    fe.updated(article.updated_at)
    body = article_html(article, allow_iframes=False)
    provider = article.provider
    if atom:
        fe.id(ctx.item_id(article))
        if article.excerpt:
            fe.summary(article.excerpt, type="text")
        fe.content(body, type="html")
        if provider is not None:
            uri = f"https://{provider.domain}/" if "." in provider.domain else None
            fe.author(name=provider.name, uri=uri) if uri else fe.author(name=provider.name)
        else:
            fe.author(name=ctx.site_title, uri=ctx.base_url)
    else:
        fe.guid(ctx.item_id(article), permalink=False)
        # RSS <description> is HTML (RSS 2.0 spec): plain text is escaped once more.
        fe.description(escape(article.excerpt or article.title))
        fe.content(body)
        fe.dc.dc_creator(provider.name if provider else ctx.site_title)
    for topic in article.topics:
        fe.category(term=topic)
    if article.link_state == "dead":
        fe.category(term=DEAD_LINK_TAG)
    for image in article.images[:1]:
        media = {"url": image.url, "medium": "image"}
        if image.width and image.height:
            media.update(width=str(image.width), height=str(image.height))
        fe.media.content(media, group=None)
