"""Shared construction of RSS and Atom documents with feedgen.

feedgen pitfalls handled here: it dates feeds "now" unless told (we use the
newest item, so unchanged input gives unchanged bytes); it takes the RSS
channel link from the *last* link added (the alternate goes last); it
prepends entries unless told to append; and its own Media RSS extension
cannot write a video player, so ``media.py`` replaces it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from ..model import Article, Feed, LinkState
from .content import DEAD_LINK_TAG, article_html
from .context import RenderContext
from .media import UNKNOWN_LENGTH, MediaEntryExtension, MediaExtension, image_type, item_image

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
GENERATOR_URI = "https://pypi.org/project/feedpub/"


def item_updated(article: Article) -> datetime:
    """Atom's ``updated``: when the story's content last changed, else its date."""
    if article.modified is None:
        return article.updated_at
    return max(article.modified, article.updated_at)


def feed_updated(feed: Feed[Article]) -> datetime:
    """The feed's date: its newest item's (an empty feed: ``feed.updated``), never the clock."""
    return max((item_updated(a) for a in feed.items), default=feed.updated or EPOCH)


class _History(BaseExtension):  # type: ignore[misc]
    """Links feedgen cannot write in RSS (hub, archives) and RFC 5005's ``fh:archive``."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self.archive else {}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss[0]
        for rel, href in self.links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        if self.archive:
            etree.SubElement(channel, f"{{{HISTORY_NS}}}archive")
        return rss

    def extend_atom(self, atom: etree._Element) -> etree._Element:
        if self.archive:
            etree.SubElement(atom, f"{{{HISTORY_NS}}}archive")
        return atom


class _NoEntryHistory(BaseEntryExtension):  # type: ignore[misc]
    pass


def history_links(feed: Feed[Article], ctx: RenderContext, filename: str) -> list[tuple[str, str]]:
    """WebSub hubs (subscription documents only) and RFC 5005 links, as (rel, href)."""
    links: list[tuple[str, str]] = []
    if feed.page:
        links.append(("current", ctx.current_url(feed, filename)))
    else:
        links.extend(("hub", hub) for hub in ctx.hubs)
    older = feed.older_page
    if older is not None:
        href = ctx.page_url(feed, older, filename)
        links.extend((("prev-archive", href), ("next", href)))
    if feed.page and feed.page < feed.pages:
        links.append(("next-archive", ctx.page_url(feed, feed.page + 1, filename)))
    return links


def new_generator(
    feed: Feed[Article],
    ctx: RenderContext,
    self_url: str,
    media_type: str,
    filename: str,
    *,
    rss: bool,
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("media", MediaExtension, MediaEntryExtension, atom=True, rss=True)
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(self_url)
    fg.title(feed.title)
    fg.description(feed.description or feed.title)
    fg.language(ctx.language)
    fg.generator("feedpub", version=ctx.generator_version, uri=GENERATOR_URI)
    fg.link(href=self_url, rel="self", type=media_type)
    links = history_links(feed, ctx, filename)
    if links or feed.page:
        fg.register_extension("history", _History, _NoEntryHistory, atom=True, rss=True)
        fg.history.archive = bool(feed.page)
        if rss:
            fg.history.links = links
    if not rss:
        for rel, href in links:
            fg.link(href=href, rel=rel)
    fg.link(href=ctx.folder_url(feed), rel="alternate", type="text/html")  # last: RSS <link>
    fg.updated(feed_updated(feed))
    add_branding(fg, feed, ctx, rss=rss)
    return fg


def add_branding(fg: FeedGenerator, feed: Feed[Article], ctx: RenderContext, *, rss: bool) -> None:
    """RSS ``<image>`` (RSS 2.0: url, title and link, the latter two the channel's);
    Atom ``<icon>`` (square, small) and ``<logo>`` (RFC 4287 4.2.5, 4.2.8)."""
    icon, logo = feed.icon or feed.logo, feed.logo or feed.icon
    if icon is None or logo is None:
        return
    if rss:
        fg.image(url=logo, title=feed.title, link=ctx.folder_url(feed))
    else:
        fg.icon(icon)
        fg.logo(logo)


def add_entry(fg: FeedGenerator, article: Article, ctx: RenderContext, *, atom: bool) -> None:
    fe = fg.add_entry(order="append")
    fe.title(article.title)
    fe.link(href=article.url, rel="alternate", type="text/html")
    fe.published(article.published)
    fe.updated(item_updated(article))
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
        # RSS <description> is HTML (RSS 2.0 spec): plain text is escaped once more,
        # but only where HTML needs it, so a client that shows it as text reads
        # "it's", never "it&#x27;s".
        fe.description(escape(article.excerpt or article.title, quote=False))
        fe.content(body)
        fe.dc.dc_creator(provider.name if provider else ctx.site_title)
    for topic in article.topics:
        fe.category(term=topic)
    if article.link_state is LinkState.DEAD:
        fe.category(term=DEAD_LINK_TAG)
    image = item_image(article)
    if image is not None and not atom:  # Atom's enclosure link: see media.py
        # One enclosure: RSS 2.0 allows one per item.
        fe.enclosure(url=image.url, length=UNKNOWN_LENGTH, type=image_type(image.url))
    fe.media.article = article
