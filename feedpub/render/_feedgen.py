"""Shared construction of RSS and Atom documents: the feed with feedgen, its
entries with lxml (``entries.py``).

feedgen pitfalls handled here: it dates feeds "now" unless told (we use the
newest item, so unchanged input gives unchanged bytes); it takes the RSS
channel link from the *last* link added (the alternate goes last); and its
own Media RSS extension cannot write a video player, so ``media.py`` replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from ..model import Article, Feed
from .context import RenderContext
from .entries import DC_NS, add_atom_entry, add_rss_item, item_updated
from .media import MediaExtension

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
GENERATOR_URI = "https://pypi.org/project/feedpub/"


def feed_updated(feed: Feed[Article]) -> datetime:
    """The feed's date: its newest item's (an empty feed: ``feed.updated``), never the clock."""
    return max((item_updated(a) for a in feed.items), default=feed.updated or EPOCH)


class _DublinCore(BaseExtension):  # type: ignore[misc]
    """The ``dc`` prefix of the items' ``dc:creator``, as feedgen's own extension
    declares it (loading that one by name searches the import path every time)."""

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}


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


class _Entries(BaseExtension):  # type: ignore[misc]
    """The feed's items, appended after every other element of the channel or feed,
    where feedgen puts its own entries (this extension is registered last)."""

    def __init__(self, articles: Sequence[Article], ctx: RenderContext) -> None:
        self.articles = articles
        self.ctx = ctx

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss[0]
        for article in self.articles:
            add_rss_item(channel, article, self.ctx)
        return rss

    def extend_atom(self, atom: etree._Element) -> etree._Element:
        for article in self.articles:
            add_atom_entry(atom, article, self.ctx)
        return atom


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
    fg.register_extension("media", MediaExtension, atom=True, rss=True)
    fg.register_extension("dc", _DublinCore, atom=False, rss=True)
    fg.id(self_url)
    fg.title(feed.title)
    fg.description(feed.description or feed.title)
    fg.language(ctx.language)
    fg.generator("feedpub", version=ctx.generator_version, uri=GENERATOR_URI)
    fg.link(href=self_url, rel="self", type=media_type)
    links = history_links(feed, ctx, filename)
    if links or feed.page:
        fg.register_extension("history", _History, atom=True, rss=True)
        fg.history.archive = bool(feed.page)
        if rss:
            fg.history.links = links
    if not rss:
        for rel, href in links:
            fg.link(href=href, rel=rel)
    fg.link(href=ctx.folder_url(feed), rel="alternate", type="text/html")  # last: RSS <link>
    fg.updated(feed_updated(feed))
    add_branding(fg, feed, ctx, rss=rss)
    fg.register_extension("entries", partial(_Entries, feed.items, ctx), atom=True, rss=True)
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
