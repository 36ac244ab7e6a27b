"""What every renderer needs to know besides the feed: where files are served."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import ArticleHead, Feed


@dataclass(frozen=True, slots=True)
class RenderContext:
    base_url: str  # absolute, ends with "/"
    site_title: str
    site_domain: str
    language: str
    generator_version: str
    hubs: tuple[str, ...] = ()
    # Root-relative URL of feed.xsl for RSS and Atom to point browsers at; None: no styling.
    stylesheet_url: str | None = None
    # A feed file larger than this is rendered again with fewer (the newest) items.
    max_feed_bytes: int = 10 * 1024 * 1024

    def folder_url(self, feed: Feed[ArticleHead]) -> str:
        """The HTML page of a feed (an archive page's is its feed's): the folder's index.html."""
        return self.base_url + feed.home

    def file_url(self, feed: Feed[ArticleHead], filename: str) -> str:
        """Where this document of ``feed`` is served."""
        return self.base_url + (feed.folder + "/" if feed.folder else "") + filename

    def page_url(self, feed: Feed[ArticleHead], page: int, filename: str) -> str:
        """Where archive page ``page`` of ``feed`` (1 = oldest) is served."""
        return self.base_url + feed.home + f"archive/{page}/{filename}"

    def current_url(self, feed: Feed[ArticleHead], filename: str) -> str:
        """The subscription document of ``feed`` (itself, unless it is an archive page)."""
        return self.base_url + feed.home + filename

    def item_id(self, article: ArticleHead) -> str:
        """A ``tag:`` URI (RFC 4151): stable when the title or URL is edited."""
        return f"tag:{self.site_domain},{article.key}"
