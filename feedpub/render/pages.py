"""Discovery files: the OPML subscription list and the HTML pages.

``index.html`` at the top is the landing page: every topic and provider with
its item count, newest headline, feed address and formats. Each feed's folder
gets an ``index.html`` of its own, the page the RSS channel ``<link>`` and the
Atom ``alternate`` link point at. Every page carries ``<link rel="alternate">``
autodiscovery for its feeds.

The pages need no JavaScript: a feed address is shown in full and selects with
one click; a small script only adds "Copy" buttons where the clipboard works.
Links between pages are relative, so the pages work wherever the folder is
served (a preview server, a mirror); feed addresses shown to copy are absolute.
Nothing here reads the clock: the same feeds give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from lxml import etree

from ..assets import asset_text
from ..model import Article, ArticleHead, ArticleKind, Feed, FeedKind
from . import RENDERERS, RenderContext
from .entries import MONTHS

_FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
_KIND_LABELS = {
    FeedKind.SITE: "All stories",
    FeedKind.TOPIC: "Topic",
    FeedKind.PROVIDER: "Source",
    FeedKind.CUSTOM: "Curated",
    FeedKind.TOP: "Top stories",
}
_FEED_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="5" cy="19" r="2.5"/>'
    '<path d="M2.5 9.5v3a9 9 0 0 1 9 9h3a12 12 0 0 0-12-12zm0-7v3a16 16 0 0 1 16 16h3'
    'a19 19 0 0 0-19-19z"/></svg>'
)
_ABOUT_FEEDS = '<p>New to feeds? <a href="https://aboutfeeds.com/">About Feeds</a> explains them in a minute.</p>'


def _name(feed: Feed[ArticleHead]) -> str:
    """A feed's own name, without the " — Site" its title carries."""
    return feed.title.split(" — ")[0]


def _date(article: ArticleHead) -> str:
    when = article.published
    return f'<time datetime="{when.isoformat()}">{when.day} {MONTHS[when.month - 1]} {when.year}</time>'


def _stories(count: int) -> str:
    return "1 story" if count == 1 else f"{count} stories"


def _root(page_folder: str) -> str:
    """The relative way from a page's folder up to the top of the output folder."""
    return "../" * len(page_folder.split("/")) if page_folder else ""


def _feed_url_field(feed: Feed[ArticleHead], ctx: RenderContext) -> str:
    """The feed's RSS address to copy: visible in full, selectable without JavaScript."""
    field = "url-" + (feed.folder.replace("/", "-") if feed.folder else "site")
    return (
        f'<p class="feed-url"><span class="sr-only">Feed address: </span>'
        f'<code id="{escape(field)}">{_breakable(ctx.file_url(feed, "rss.xml"))}</code>'
        f'<button type="button" class="copy" data-copy="{escape(field)}" '
        f'aria-label="Copy the feed address of {escape(_name(feed))}" hidden>Copy</button></p>'
    )


def _breakable(url: str) -> str:
    """The URL as HTML that wraps after a "/" (``<wbr>`` adds no text to copy)."""
    scheme, sep, rest = url.partition("://")
    return escape(scheme + sep) + "/<wbr>".join(escape(part) for part in rest.split("/"))


def _format_links(feed: Feed[ArticleHead], prefix: str, label: str = "") -> str:
    """Links to the feed in every format; ``prefix`` is the relative way to its folder."""
    links = "".join(
        f'<a href="{escape(prefix + r.filename)}" type="{r.media_type}" '
        f'aria-label="{_FORMAT_LABELS[r.name]} feed: {escape(_name(feed))}">{_FORMAT_LABELS[r.name]}</a>'
        for r in RENDERERS
    )
    lead = f'<span class="label">{label}</span>' if label else ""
    return f'<p class="formats">{lead}{links}</p>'


def _autodiscovery(feed: Feed[ArticleHead], ctx: RenderContext) -> str:
    return "".join(
        f'<link rel="alternate" type="{r.media_type}" title="{escape(feed.title)} ({_FORMAT_LABELS[r.name]})" '
        f'href="{escape(ctx.file_url(feed, r.filename))}">\n'
        for r in RENDERERS
    )


def _page(title: str, description: str, head_links: str, body: str, ctx: RenderContext) -> bytes:
    html = (
        f'<!DOCTYPE html>\n<html lang="{escape(ctx.language)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f'<meta name="description" content="{escape(description)}">\n'
        f"{head_links}<style>\n{asset_text('feedpub.css')}</style>\n</head>\n<body>\n{body}\n"
        f'<p id="copy-status" class="sr-only" role="status"></p>\n'
        f"<script>\n{asset_text('copy.js')}</script>\n</body>\n</html>\n"
    )
    return html.encode("utf-8")


def _header(eyebrow: str, title: str, lede: str, feed: Feed[ArticleHead]) -> str:
    logo = feed.logo or feed.icon
    mark = (
        f'<img class="feed-logo" src="{escape(logo)}" alt="" width="48" height="48">'
        if logo
        else ""
    )
    return (
        f'<header class="site"><div class="wrap"><p class="eyebrow">{eyebrow}</p>'
        f'<h1>{mark}{escape(title)}</h1><p class="lede">{escape(lede)}</p></div></header>'
    )


def _icon_link(feed: Feed[ArticleHead]) -> str:
    """The browser tab's icon: the feed's own, as its feeds carry it."""
    icon = feed.icon or feed.logo
    return f'<link rel="icon" href="{escape(icon)}">\n' if icon else ""


def _footer(ctx: RenderContext, root: str | None) -> str:
    """The page footer; ``root`` is the way to the landing page, None on the landing page."""
    home = (
        f'<a href="{root or "./"}">All feeds of {escape(ctx.site_title)}</a> · '
        if root is not None
        else ""
    )
    return (
        f'<footer class="site"><div class="wrap"><p>{home}'
        f'<a href="{root or ""}index.opml" type="text/x-opml" download>OPML subscription list</a></p>'
        f"<p>Feeds in RSS 2.0, Atom 1.0 and JSON Feed 1.1, published with feedpub.</p>"
        f"</div></footer>"
    )


def _card(feed: Feed[ArticleHead], ctx: RenderContext, *, featured: bool = False) -> str:
    """One feed on the landing page: name, count, newest headline, address, formats."""
    prefix = feed.folder + "/" if feed.folder else ""
    newest = ""
    if feed.items:
        top = feed.items[0]
        newest = (
            f'<p class="newest">Newest: <a href="{escape(top.url)}">{escape(top.title)}</a>'
            f" · {_date(top)}</p>"
        )
    # The site feed's page is the landing page itself.
    name = (
        "Everything"
        if feed.kind is FeedKind.SITE
        else f'<a href="{escape(prefix)}">{escape(_name(feed))}</a>'
    )
    return (
        f'<li class="card{" featured" if featured else ""}">'
        f'<h3>{name} <span class="pill">{_stories(feed.total)}</span></h3>{newest}'
        f'<div class="subscribe">{_feed_url_field(feed, ctx)}{_format_links(feed, prefix)}</div></li>'
    )


def _card_section(
    feeds: Sequence[Feed[ArticleHead]], ctx: RenderContext, slug: str, heading: str
) -> str:
    if not feeds:
        return ""
    cards = "".join(_card(f, ctx) for f in feeds)
    return (
        f'<section aria-labelledby="{slug}"><h2 id="{slug}">{heading} '
        f'<span class="count">({len(feeds)})</span></h2><ul class="cards">{cards}</ul></section>'
    )


def render_index(feeds: Sequence[Feed[ArticleHead]], ctx: RenderContext) -> bytes:
    """The top ``index.html``: what feeds are, then every feed with its count and formats."""
    site = next(f for f in feeds if f.kind is FeedKind.SITE)
    topics = [f for f in feeds if f.kind is FeedKind.TOPIC]
    providers = [f for f in feeds if f.kind is FeedKind.PROVIDER]
    custom = [f for f in feeds if f.kind is FeedKind.CUSTOM]
    top = [f for f in feeds if f.kind is FeedKind.TOP]
    links = _autodiscovery(site, ctx) + "".join(_autodiscovery(f, ctx) for f in topics)
    eyebrow = f'<span class="badge">{_FEED_ICON} News feeds</span>'
    body = (
        '<a class="skip" href="#main">Skip to the feeds</a>\n'
        f"{_header(eyebrow, site.title, site.description, site)}\n"
        '<main id="main" class="wrap">'
        '<section class="intro" aria-labelledby="what"><h2 id="what">Follow the news in your feed reader</h2>'
        "<p>Each feed below is a list of the latest stories that a feed reader app "
        "(NetNewsWire, Feedly, Inoreader, Thunderbird and many more) checks for you: new stories "
        "arrive in your reader as they are published. No account, no tracking.</p>"
        "<p><strong>To subscribe</strong>, copy a feed’s address into your reader. Every feed also "
        "comes as Atom and JSON Feed; RSS works everywhere. To follow everything at once, import "
        f'the <a href="index.opml" type="text/x-opml" download>OPML subscription list</a>.</p>'
        f"{_ABOUT_FEEDS}</section>"
        '<section aria-labelledby="all"><h2 id="all">All stories</h2>'
        f'<ul class="cards wide">{_card(site, ctx, featured=True)}</ul></section>'
        f"{_card_section(top, ctx, 'top', 'Top stories')}"
        f"{_card_section(custom, ctx, 'curated', 'Curated feeds')}"
        f"{_card_section(topics, ctx, 'topics', 'Topics')}"
        f"{_card_section(providers, ctx, 'sources', 'Sources')}</main>\n"
        f"{_footer(ctx, None)}"
    )
    return _page(site.title, site.description, _icon_link(site) + links, body, ctx)


def _item(article: Article, rank: int | None = None) -> str:
    image = article.images[0] if article.images else None
    media = ""
    if image is not None:
        size = (
            f' width="{image.width}" height="{image.height}"'
            if image.width and image.height
            else ""
        )
        media = f'<img src="{escape(image.url)}" alt=""{size} loading="lazy" decoding="async">'
    meta = [] if rank is None else [f'<span class="rank">Top {rank}</span>']
    if article.provider is not None:
        meta.append(f'<span class="provider">{escape(article.provider.name)}</span>')
    if article.kind is ArticleKind.VIDEO:
        meta.append("Video")
    meta.append(_date(article))
    excerpt = f'<p class="excerpt">{escape(article.excerpt)}</p>' if article.excerpt else ""
    return (
        f'<li class="item{"" if media else " no-image"}">{media}<div>'
        f'<h3><a href="{escape(article.url)}">{escape(article.title)}</a></h3>'
        f'<p class="meta">{" · ".join(meta)}</p>{excerpt}</div></li>'
    )


def _rank(feed: Feed[Article], index: int) -> int | None:
    return feed.ranks[index] if index < len(feed.ranks) else None


def render_feed_page(feed: Feed[Article], ctx: RenderContext) -> bytes:
    """A feed's own ``index.html``: how to subscribe, then its items, newest first."""
    root = _root(feed.folder)
    name = _name(feed)
    eyebrow = (
        f'<a href="{root}">{escape(ctx.site_title)}</a>'
        f'<span class="badge">{_FEED_ICON} {_KIND_LABELS[feed.kind]} feed</span>'
    )
    shown = (
        f"{len(feed.items)} of {feed.total}" if feed.total > len(feed.items) else len(feed.items)
    )
    body = (
        '<a class="skip" href="#stories">Skip to the stories</a>\n'
        f"{_header(eyebrow, name, feed.description, feed)}\n"
        '<main id="main" class="wrap">'
        f'<section class="intro" aria-labelledby="subscribe"><h2 id="subscribe">Follow {escape(name)} '
        "in your feed reader</h2><p>Copy this address into your feed reader app, and new stories "
        "arrive there as they are published.</p>"
        f"{_feed_url_field(feed, ctx)}{_format_links(feed, '', 'Formats')}{_ABOUT_FEEDS}</section>"
        f'<section aria-labelledby="stories"><h2 id="stories">Latest stories '
        f'<span class="count">({shown})</span></h2>'
        f'<ol class="items">{"".join(_item(a, _rank(feed, i)) for i, a in enumerate(feed.items))}</ol></section></main>\n'
        f"{_footer(ctx, root)}"
    )
    head = _icon_link(feed) + _autodiscovery(feed, ctx)
    return _page(feed.title, feed.description, head, body, ctx)


def render_opml(feeds: Sequence[Feed[ArticleHead]], ctx: RenderContext) -> bytes:
    """``index.opml`` (OPML 2.0): every feed, grouped, importable by feed readers."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = ctx.site_title
    body = etree.SubElement(opml, "body")
    groups = (
        ("Site", FeedKind.SITE),
        ("Topics", FeedKind.TOPIC),
        ("Providers", FeedKind.PROVIDER),
        ("Curated", FeedKind.CUSTOM),
        ("Top stories", FeedKind.TOP),
    )
    for label, kind in groups:
        members = [f for f in feeds if f.kind is kind]
        if not members:
            continue
        group = etree.SubElement(body, "outline", text=label, title=label)
        for feed in members:
            etree.SubElement(
                group,
                "outline",
                type="rss",
                text=feed.title,
                title=feed.title,
                xmlUrl=ctx.file_url(feed, "rss.xml"),
                htmlUrl=ctx.folder_url(feed),
            )
    data: bytes = etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
