"""The media type of each file the output folder holds: one table for serving and deploying."""

from __future__ import annotations

from pathlib import PurePath

from .render import RENDERERS

_BY_NAME = {r.filename: r.media_type for r in RENDERERS}
_BY_SUFFIX = {
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".xml": "application/xml",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
}


def content_type(path: PurePath) -> str:
    """The ``Content-Type`` for a file of the output folder."""
    media_type = _BY_NAME.get(path.name) or _BY_SUFFIX.get(path.suffix.lower())
    if media_type is None:
        return "application/octet-stream"
    # feedpub writes XML as UTF-8; RFC 7303 asks servers to say so. JSON has no charset.
    return media_type + "; charset=utf-8" if media_type.endswith("xml") else media_type
