"""The HTML body of an item, shared by every format.

Source HTML (a video's ``featuredContent``) goes through nh3, the Python
binding of the ammonia sanitizer, with an allow-list: iframes only from known
video hosts, never scripts, event handlers or ``javascript:`` URLs. Text from
the article is escaped once here and never trusted as markup.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

import nh3

from ..model import Article, ArticleKind, LinkState
from ..text import strip_xml_illegal

VIDEO_HOSTS = frozenset(
    {
        "www.youtube.com",
        "youtube.com",
        "www.youtube-nocookie.com",
        "player.vimeo.com",
        "www.dailymotion.com",
        "player.twitch.tv",
        "www.facebook.com",
        "players.brightcove.net",
        "play.vidyard.com",
        "fast.wistia.net",
        "www.loom.com",
        "streamable.com",
        "embed.ted.com",
        "media.cnbc.com",
        "www.microsoft.com",
        "channel9.msdn.com",
    }
)
MAX_RELATED = 8
# The category (RSS, Atom) and tag (JSON Feed) of an item kept with on_dead = "flag".
DEAD_LINK_TAG = "dead-link"
DEAD_LINK_NOTE = (
    "<p><em>Note: the original story no longer appears to be available at its link.</em></p>"
)

_TAGS = {"a", "b", "blockquote", "br", "em", "i", "img", "li", "ol", "p", "strong", "ul"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
_IFRAME_ATTRIBUTES = {"src", "width", "height", "title", "allow", "allowfullscreen", "frameborder"}


def _keep_safe_sources(tag: str, attribute: str, value: str) -> str | None:
    """Links and sources only to absolute http(s) URLs; iframes only from video hosts.

    A relative URL would resolve against wherever a reader happens to show the
    item, so it never points where its author meant.
    """
    if attribute not in ("href", "src"):
        return value
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if tag == "iframe" and (parts.scheme.lower() != "https" or host not in VIDEO_HOSTS):
        return None
    return value


def sanitize_html(source: str, *, allow_iframes: bool) -> str:
    """Clean untrusted HTML down to an allow-list (iframes only from video hosts)."""
    if not source.strip():
        return ""
    tags = _TAGS | {"iframe"} if allow_iframes else _TAGS
    attributes = dict(_ATTRIBUTES)
    if allow_iframes:
        attributes["iframe"] = _IFRAME_ATTRIBUTES
    cleaned: str = nh3.clean(
        source,
        tags=tags,
        attributes=attributes,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
        attribute_filter=_keep_safe_sources,
        strip_comments=True,
    )
    # nh3 decodes character references, so "&#1;" comes out as a raw control
    # character that XML 1.0 cannot carry.
    cleaned = strip_xml_illegal(cleaned)
    # An iframe whose source was refused would render as an empty box.
    return cleaned.replace("<iframe></iframe>", "") if allow_iframes else cleaned


def embed_source(article: Article) -> str | None:
    """The ``src`` of the video embed in ``featured_html``, if it is from a known host."""
    cleaned = sanitize_html(article.featured_html, allow_iframes=True)
    start = cleaned.find('src="')
    if "<iframe" not in cleaned or start < 0:
        return None
    end = cleaned.find('"', start + 5)
    return cleaned[start + 5 : end].replace("&amp;", "&")


def _text(value: str) -> str:
    """Escape text for an HTML element's content: only ``&``, ``<`` and ``>``.

    Quotes need no escaping outside attributes, and clients that strip tags
    without decoding references would show "it&#x27;s".
    """
    return escape(value, quote=False)


def article_html(article: Article, *, allow_iframes: bool) -> str:
    """The item body: media, excerpt, a link to the story, and related coverage.

    With ``allow_iframes`` a video's embed is kept (JSON Feed); without it the
    video is shown as a linked poster image, because the W3C feed validator
    flags iframes in RSS and Atom content as a security risk and many readers
    strip them.
    """
    parts: list[str] = []
    image = article.images[0] if article.images else None
    provider = article.provider.name if article.provider else "the source"
    if article.featured_html and allow_iframes:
        embed = sanitize_html(article.featured_html, allow_iframes=True)
        if embed:
            parts.append(f"<p>{embed}</p>")
            image = None
    if image is not None:
        img = f'<img src="{escape(image.url)}" alt="{escape(article.title)}"'
        if image.width and image.height:
            img += f' width="{image.width}" height="{image.height}"'
        img += ">"
        if article.kind is ArticleKind.VIDEO:
            img = f'<a href="{escape(article.url)}">{img}</a>'
        parts.append(f"<p>{img}</p>")
    if article.excerpt:
        parts.append(f"<p>{_text(article.excerpt)}</p>")
    verb = "Watch" if article.kind is ArticleKind.VIDEO else "Read"
    parts.append(f'<p><a href="{escape(article.url)}">{verb} on {_text(provider)}</a></p>')
    if article.link_state is LinkState.DEAD:
        parts.append(DEAD_LINK_NOTE)
    related = [r for r in article.related if r.url != article.url][:MAX_RELATED]
    if related:
        links = ", ".join(
            f'<a href="{escape(r.url)}" title="{escape(r.title)}">'
            f"{_text(r.provider or r.title)}</a>"
            for r in related
        )
        more = "…" if len(article.related) > MAX_RELATED else ""
        parts.append(f"<p>Also covered by {links}{more}</p>")
    return "".join(parts)
