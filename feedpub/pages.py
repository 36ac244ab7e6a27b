"""Discovery files: the OPML subscription list and the HTML pages.

``index.html`` at the top lists every feed; each feed's folder gets an
``index.html`` of its own, which is the page the RSS channel ``<link>`` and
the Atom ``alternate`` link point at. Every page carries
``<link rel="alternate">`` autodiscovery for its feeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from lxml import etree

from .model import Feed, FeedKind
from .render import RENDERERS, RenderContext

_FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}

_STYLE = """
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--card:#f6f8fa;--accent:#0b57d0}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--accent:#6ea8fe}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}
h2{font-size:1.2rem;margin-top:2rem}
a{color:var(--accent)}
.muted{color:var(--muted)}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid var(--card);vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.formats a{margin-right:.6rem;white-space:nowrap}
ol.items{padding-left:0;list-style:none}
ol.items li{padding:.75rem 0;border-bottom:1px solid var(--card)}
ol.items h3{font-size:1.05rem;margin:0 0 .25rem}
@media (max-width:40rem){th.hide,td.hide{display:none}}
"""


def _feed_links(feed: Feed, ctx: RenderContext) -> str:
    return "".join(
        f'<a href="{escape(ctx.file_url(feed, r.filename))}" type="{r.media_type}">'
        f"{_FORMAT_LABELS[r.name]}</a>"
        for r in RENDERERS
    )


def _autodiscovery(feed: Feed, ctx: RenderContext) -> str:
    return "".join(
        f'<link rel="alternate" type="{r.media_type}" title="{escape(feed.title)} ({_FORMAT_LABELS[r.name]})" '
        f'href="{escape(ctx.file_url(feed, r.filename))}">\n'
        for r in RENDERERS
    )


def _page(title: str, head_links: str, body: str, lang: str) -> bytes:
    html = (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n{head_links}<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
    return html.encode("utf-8")


def _table(feeds: Sequence[Feed], ctx: RenderContext, heading: str) -> str:
    if not feeds:
        return ""
    rows = []
    for feed in feeds:
        newest = feed.items[0].title if feed.items else ""
        name = feed.title.split(" — ")[0]
        rows.append(
            f'<tr><td><a href="{escape(ctx.folder_url(feed))}">{escape(name)}</a></td>'
            f'<td class="n">{feed.total}</td>'
            f'<td class="hide muted">{escape(newest)}</td>'
            f'<td class="formats">{_feed_links(feed, ctx)}</td></tr>'
        )
    return (
        f'<section aria-labelledby="h-{heading.lower()}"><h2 id="h-{heading.lower()}">{heading}</h2>'
        f'<table><thead><tr><th scope="col">Feed</th><th scope="col">Items</th>'
        f'<th scope="col" class="hide">Newest</th><th scope="col">Subscribe</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def render_index(feeds: Sequence[Feed], ctx: RenderContext) -> bytes:
    """The top ``index.html``: every feed, with item counts and links to each format."""
    site = next(f for f in feeds if f.kind is FeedKind.SITE)
    topics = [f for f in feeds if f.kind is FeedKind.TOPIC]
    providers = [f for f in feeds if f.kind is FeedKind.PROVIDER]
    links = _autodiscovery(site, ctx) + "".join(_autodiscovery(f, ctx) for f in topics)
    body = (
        f"<header><h1>{escape(site.title)}</h1>"
        f'<p class="muted">{escape(site.description)}</p></header>\n<main>'
        f"<p>All stories: {_feed_links(site, ctx)} · "
        f'<a href="{escape(ctx.base_url)}index.opml" type="text/x-opml">OPML (all feeds)</a></p>'
        f"{_table(topics, ctx, 'Topics')}{_table(providers, ctx, 'Providers')}</main>"
    )
    return _page(site.title, links, body, ctx.language)


def render_feed_page(feed: Feed, ctx: RenderContext) -> bytes:
    """A feed's own ``index.html``: its items, newest first, and its subscribe links."""
    items = []
    for article in feed.items:
        provider = article.provider.name if article.provider else ""
        when = article.published.strftime("%Y-%m-%d %H:%M UTC")
        items.append(
            f'<li><h3><a href="{escape(article.url)}">{escape(article.title)}</a></h3>'
            f'<div class="muted">{escape(provider)} · <time datetime="{article.published.isoformat()}">'
            f"{when}</time></div><p>{escape(article.excerpt)}</p></li>"
        )
    body = (
        f'<header><p><a href="{escape(ctx.base_url)}">{escape(ctx.site_title)}</a></p>'
        f'<h1>{escape(feed.title)}</h1><p class="muted">{escape(feed.description)}</p>'
        f"<p>Subscribe: {_feed_links(feed, ctx)}</p></header>\n"
        f'<main><ol class="items">{"".join(items)}</ol></main>'
    )
    return _page(feed.title, _autodiscovery(feed, ctx), body, ctx.language)


def render_opml(feeds: Sequence[Feed], ctx: RenderContext) -> bytes:
    """``index.opml`` (OPML 2.0): every feed, grouped, importable by feed readers."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = ctx.site_title
    body = etree.SubElement(opml, "body")
    groups = (
        ("Site", FeedKind.SITE),
        ("Topics", FeedKind.TOPIC),
        ("Providers", FeedKind.PROVIDER),
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
