"""Styled feeds: the XSLT stylesheet browsers apply to RSS and Atom, and the link to it.

A browser that opens ``rss.xml`` or ``atom.xml`` finds an ``<?xml-stylesheet?>``
processing instruction (W3C "Associating Style Sheets with XML documents")
right after the XML declaration and shows the feed through ``feed.xsl``, which
is written once at the top of the output folder. Feed readers ignore both.

The reference is root-relative (``/feeds/feed.xsl`` for a ``base_url`` of
``https://example.org/feeds/``): one string that works from every feed folder.
It cannot be absolute, because browsers apply XSLT only from the feed's own
origin, so an absolute URL would break every preview and mirror.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from lxml import etree

from ..assets import asset_text

STYLESHEET_NAME = "feed.xsl"
_XML_DECLARATION_END = b"?>"


def stylesheet_href(base_url: str) -> str:
    """The root-relative URL of ``feed.xsl`` for a site served at ``base_url``."""
    path = urlsplit(base_url).path or "/"
    return path + STYLESHEET_NAME if path.endswith("/") else path + "/" + STYLESHEET_NAME


def add_stylesheet_pi(document: bytes, href: str) -> bytes:
    """Insert ``<?xml-stylesheet type="text/xsl" href=…?>`` after the XML declaration.

    This is the only place feeds get the instruction: feedgen cannot write one.
    Working on the bytes keeps everything else exactly as feedgen wrote it.
    """
    pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{_attr(href)}"')
    line: bytes = etree.tostring(pi, encoding="UTF-8")
    if document.startswith(b"<?xml "):
        end = document.index(_XML_DECLARATION_END) + len(_XML_DECLARATION_END)
        return document[:end] + b"\n" + line + document[end:]
    return line + b"\n" + document


def _attr(value: str) -> str:
    # The pseudo-attributes of the instruction follow XML attribute syntax, and the
    # instruction itself ends at the first "?>".
    escaped = value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return escaped.replace("?>", "?&gt;")


def render_stylesheet() -> bytes:
    """``feed.xsl`` with the shared CSS and the copy-button script inlined.

    The page it makes needs no other file; its bytes never change between
    builds of the same feedpub version.
    """
    root = etree.fromstring(asset_text("feed.xsl").encode("utf-8"))
    for tag, name in (("style", "feedpub.css"), ("script", "copy.js")):
        [element] = root.iter(tag)
        element.text = "\n" + asset_text(name)
    # The tree, not the root element: the comment before the root is part of the file.
    data: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return data + b"\n"
