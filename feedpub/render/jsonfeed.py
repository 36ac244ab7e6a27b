"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand: feedgen has none."""

from __future__ import annotations

from datetime import datetime

from ..model import Article, Feed, LinkState
from ..text import slugify
from .content import DEAD_LINK_TAG, article_html
from .context import RenderContext
from .jsontext import dumps_indented

VERSION = "https://jsonfeed.org/version/1.1"
# JSON Feed extensions carry an "about" URL describing them.
EXTENSION_DOC = "https://pypi.org/project/feedpub/"  # the docs ship in docs/feed-format.md


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _extension(article: Article, rank: int | None) -> dict[str, object]:
    """The ``_feedpub`` object: the Smartable data behind the item, for aggregators.

    JSON Feed 1.1 reserves keys starting with "_" for extensions; readers that do
    not know one ignore it. Documented in docs/feed-format.md.
    """
    related: list[dict[str, str]] = []
    for story in article.related:
        entry = {"title": story.title, "url": story.url}
        if story.provider:
            entry["provider"] = story.provider
        if story.published is not None:
            entry["date_published"] = _rfc3339(story.published)
        related.append(entry)
    extension: dict[str, object] = {
        "about": EXTENSION_DOC,
        "quality": article.quality,
        "heat": article.heat,
        "type": article.kind.value,
        "topics": list(article.topic_slugs or map(slugify, article.topics)),
        "related": related,
    }
    if rank is not None:  # top stories: the item's place, 1 = best (docs/editorial-feeds.md)
        extension["rank"] = rank
    return extension


class JsonFeedRenderer:
    name = "json"
    filename = "feed.json"
    media_type = "application/feed+json"

    def render(self, feed: Feed[Article], ctx: RenderContext) -> bytes:
        document: dict[str, object] = {
            "version": VERSION,
            "title": feed.title,
            "home_page_url": ctx.folder_url(feed),
            "feed_url": ctx.file_url(feed, self.filename),
            "description": feed.description,
            "language": ctx.language,
        }
        # JSON Feed 1.1: "icon" is large (512×512 ideally), "favicon" small.
        if feed.logo or feed.icon:
            document["icon"] = feed.logo or feed.icon
            document["favicon"] = feed.icon or feed.logo
        if ctx.hubs and not feed.page:
            document["hubs"] = [{"type": "WebSub", "url": hub} for hub in ctx.hubs]
        older = feed.older_page
        if older is not None:
            document["next_url"] = ctx.page_url(feed, older, self.filename)
        # Top stories: each item's rank goes in its _feedpub object.
        ranks = (*feed.ranks, *[None] * (len(feed.items) - len(feed.ranks)))
        document["items"] = [
            self._item(article, ctx, rank) for article, rank in zip(feed.items, ranks, strict=False)
        ]
        text = dumps_indented(document)
        return (text + "\n").encode("utf-8")

    def _item(self, article: Article, ctx: RenderContext, rank: int | None) -> dict[str, object]:
        item: dict[str, object] = {
            "id": ctx.item_id(article),
            "url": article.url,
            "title": article.title,
            "content_html": article_html(article, allow_iframes=True),
        }
        if article.excerpt:
            item["summary"] = article.excerpt
        if article.images:
            item["image"] = article.images[0].url
        item["date_published"] = _rfc3339(article.published)
        if article.modified is not None:
            item["date_modified"] = _rfc3339(max(article.modified, article.published))
        author: dict[str, str] = {"name": ctx.site_title, "url": ctx.base_url}
        if article.provider is not None:  # RSS and Atom credit the site likewise
            author = {"name": article.provider.name}
            if "." in article.provider.domain:
                author["url"] = f"https://{article.provider.domain}/"
            if article.provider.logo:
                author["avatar"] = article.provider.logo
        item["authors"] = [author]
        item["author"] = author  # JSON Feed 1.0's form, kept by 1.1 for older readers
        tags = [*article.topics, *([DEAD_LINK_TAG] if article.link_state is LinkState.DEAD else [])]
        if tags:
            item["tags"] = tags
        item["_feedpub"] = _extension(article, rank)
        return item
