"""An item's image and video as every kind of client looks for them.

Clients disagree on where an item's picture is: some read only RSS
``<enclosure>`` or Atom ``<link rel="enclosure">``, some only Media RSS
``media:thumbnail``, some ``media:content``. The image goes in all of them.
A video goes in as Media RSS (https://www.rssboard.org/media-rss):
``media:content medium="video"`` holding a ``media:player`` with the embed URL
and the item's ``media:title``; its poster is the item's thumbnail. Media RSS
lets ``media:content`` go without ``url`` when it has a ``media:player``, and
the W3C feed validator accepts that.
"""

from __future__ import annotations

from posixpath import splitext
from urllib.parse import urlsplit

from feedgen.ext.base import BaseExtension
from lxml import etree

from ..model import Article, ArticleKind, Image
from .content import embed_source

MEDIA_NS = "http://search.yahoo.com/mrss/"
# RSS 2.0 requires an enclosure's length in bytes; the W3C validator (and the RSS
# Advisory Board's profile) ask for 0 when it is unknown, which it always is here.
UNKNOWN_LENGTH = "0"
DEFAULT_IMAGE_TYPE = "image/jpeg"
_IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".bmp": "image/bmp",
    ".ico": "image/vnd.microsoft.icon",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}


def image_type(url: str) -> str:
    """The MIME type an image URL's extension names; JPEG when it names none we know.

    Only the path counts: ``photo.png?w=800`` is a PNG, and an image served by
    a script (``/api/image/123?v=1``) is most likely a JPEG.
    """
    try:
        path = urlsplit(url).path
    except ValueError:
        return DEFAULT_IMAGE_TYPE
    return _IMAGE_TYPES.get(splitext(path)[1].lower(), DEFAULT_IMAGE_TYPE)


def item_image(article: Article) -> Image | None:
    """The image that stands for the item (a video's poster), if it has one."""
    return article.images[0] if article.images else None


class MediaExtension(BaseExtension):  # type: ignore[misc]
    """Declares the Media RSS namespace on the feed's root element."""

    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}


def add_media(entry: etree._Element, article: Article) -> None:
    """Append ``media:content`` (image or video) and ``media:thumbnail`` to ``entry``."""
    image = item_image(article)
    player = embed_source(article) if article.kind is ArticleKind.VIDEO else None
    if player is not None:
        content = etree.SubElement(entry, f"{{{MEDIA_NS}}}content", medium="video")
        etree.SubElement(content, f"{{{MEDIA_NS}}}player", url=player)
        title = etree.SubElement(content, f"{{{MEDIA_NS}}}title", type="plain")
        title.text = article.title
    elif image is not None:
        content = etree.SubElement(
            entry,
            f"{{{MEDIA_NS}}}content",
            url=image.url,
            medium="image",
            type=image_type(image.url),
        )
        _size(content, image)
    if image is not None:
        _size(etree.SubElement(entry, f"{{{MEDIA_NS}}}thumbnail", url=image.url), image)


def _size(element: etree._Element, image: Image) -> None:
    if image.width and image.height:
        element.set("width", str(image.width))
        element.set("height", str(image.height))
