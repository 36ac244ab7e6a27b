"""RSS items and Atom entries, built with lxml straight into the feed's tree.

feedgen writes the channel and feed elements (``_feedgen.py``); its entry
objects cost more than the lxml work they end in (every setter checks its
arguments in Python, and every entry is built twice over: the objects, then
the elements), so the entries are built here, element by element in the
order feedgen 1.0 writes them: feeds already published keep their bytes.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from lxml import etree

from ..model import Article, LinkState
from .content import DEAD_LINK_TAG, article_html
from .context import RenderContext
from .media import UNKNOWN_LENGTH, add_media, image_type, item_image

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_CONTENT_ENCODED = f"{{{CONTENT_NS}}}encoded"
_DC_CREATOR = f"{{{DC_NS}}}creator"
# RFC 822 names, whatever the process's locale (feedgen switches to "C" for them).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# (The HTML pages show dates with these month names too.)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def item_updated(article: Article) -> datetime:
    """Atom's ``updated``: when the story's content last changed, else its date."""
    if article.modified is None:
        return article.updated_at
    return max(article.modified, article.updated_at)


def rfc822(moment: datetime) -> str:
    """An RSS 2.0 date (RFC 822 with a four-digit year), as feedgen writes it."""
    day, month = _DAYS[moment.weekday()], MONTHS[moment.month - 1]
    return f"{day}, {moment.day:02d} {month} {moment.strftime('%Y %H:%M:%S %z')}"


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def add_rss_item(channel: etree._Element, article: Article, ctx: RenderContext) -> None:
    """Append the ``<item>`` of ``article`` to an RSS ``<channel>``."""
    item = etree.SubElement(channel, "item")
    _text(item, "title", article.title)
    if article.url:
        _text(item, "link", article.url)
    # RSS <description> is HTML (RSS 2.0 spec): plain text is escaped once more,
    # but only where HTML needs it, so a client that shows it as text reads
    # "it's", never "it&#x27;s".
    description = escape(article.excerpt or article.title, quote=False)
    body = article_html(article, allow_iframes=False)
    _text(item, "description", description if description else body)
    if description and body:
        _text(item, _CONTENT_ENCODED, body)
    _text(item, "guid", ctx.item_id(article)).set("isPermaLink", "false")
    for term in _categories(article):
        _text(item, "category", term)
    image = item_image(article)
    if image is not None:  # one enclosure: RSS 2.0 allows one per item
        etree.SubElement(
            item, "enclosure", url=image.url, length=UNKNOWN_LENGTH, type=image_type(image.url)
        )
    _text(item, "pubDate", rfc822(article.published))
    add_media(item, article)
    provider = article.provider
    _text(item, _DC_CREATOR, provider.name if provider else ctx.site_title)


def add_atom_entry(feed: etree._Element, article: Article, ctx: RenderContext) -> None:
    """Append the ``<entry>`` of ``article`` to an Atom ``<feed>``.

    feedgen writes Atom elements unqualified, under the root's default
    namespace; so are these.
    """
    entry = etree.SubElement(feed, "entry")
    _text(entry, "id", ctx.item_id(article))
    _text(entry, "title", article.title)
    _text(entry, "updated", item_updated(article).isoformat())
    provider = article.provider
    if provider is None:
        name, uri = ctx.site_title, ctx.base_url
    else:
        name = provider.name
        uri = f"https://{provider.domain}/" if "." in provider.domain else ""
    if name:  # RFC 4287 3.2: a person has a name
        author = etree.SubElement(entry, "author")
        _text(author, "name", name)
        if uri:
            _text(author, "uri", uri)
    content = etree.SubElement(entry, "content")
    body = article_html(article, allow_iframes=False)
    if body:
        content.text = body
    content.set("type", "html")
    # The item's own link, without a rel: feedgen 1.0 drops the rel and type of
    # every entry link it writes; a link without rel is "alternate" (RFC 4287 4.2.7.2).
    etree.SubElement(entry, "link", href=article.url)
    if article.excerpt:
        _text(entry, "summary", article.excerpt).set("type", "text")
    for term in _categories(article):
        etree.SubElement(entry, "category", term=term)
    _text(entry, "published", article.published.isoformat())
    image = item_image(article)
    if image is not None:
        etree.SubElement(entry, "link", rel="enclosure", type=image_type(image.url), href=image.url)
    # Other outlets' coverage: Atom's standard place for it is rel="related"
    # (RFC 4287 4.2.7.2). RSS 2.0 has none, so there it stays in the body.
    seen = {article.url}
    for story in article.related:
        if story.url not in seen:
            seen.add(story.url)
            etree.SubElement(entry, "link", rel="related", href=story.url, title=story.title)
    add_media(entry, article)


def _categories(article: Article) -> list[str]:
    terms = list(article.topics)
    if article.link_state is LinkState.DEAD:
        terms.append(DEAD_LINK_TAG)
    return terms
