"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand: feedgen has none."""

from __future__ import annotations

import json

from ..model import Article, Feed, LinkState
from .content import DEAD_LINK_TAG, article_html
from .context import RenderContext

VERSION = "https://jsonfeed.org/version/1.1"


def _rfc3339(article: Article) -> str:
    return article.published.strftime("%Y-%m-%dT%H:%M:%SZ")


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
        if feed.icon:
            document["favicon"] = feed.icon
        if ctx.hubs and not feed.page:
            document["hubs"] = [{"type": "WebSub", "url": hub} for hub in ctx.hubs]
        older = feed.older_page
        if older is not None:
            document["next_url"] = ctx.page_url(feed, older, self.filename)
        items = [self._item(article, ctx) for article in feed.items]
        # Top stories: each item's rank in a custom object, as JSON Feed 1.1 allows
        # ("Extensions": a key starting with an underscore, readers that don't know it ignore it).
        for item, rank in zip(items, feed.ranks, strict=False):
            item["_feedpub"] = {"rank": rank}
        document["items"] = items
        text = json.dumps(document, ensure_ascii=False, indent=2)
        return (text + "\n").encode("utf-8")

    def _item(self, article: Article, ctx: RenderContext) -> dict[str, object]:
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
        item["date_published"] = _rfc3339(article)
        if article.provider is not None:
            author: dict[str, str] = {"name": article.provider.name}
            if "." in article.provider.domain:
                author["url"] = f"https://{article.provider.domain}/"
            if article.provider.logo:
                author["avatar"] = article.provider.logo
            item["authors"] = [author]
        tags = [*article.topics, *([DEAD_LINK_TAG] if article.link_state is LinkState.DEAD else [])]
        if tags:
            item["tags"] = tags
        return item
