"""Checks for the rules of the W3C feed validator and of JSON Feed 1.1 that matter to readers.

Each function raises AssertionError naming the broken rule, and returns the
items' ids in document order so callers can compare formats.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "http://search.yahoo.com/mrss/"
DC = "http://purl.org/dc/elements/1.1/"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_rss(path: Path, self_url: str) -> list[str]:
    raw = path.read_bytes()
    assert not XML_ILLEGAL.search(raw.decode("utf-8")), "XML 1.0 forbids control characters"
    root = etree.fromstring(raw)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), f"channel needs a <{required}>"
    self_links = [link for link in channel.findall(f"{{{ATOM}}}link") if link.get("rel") == "self"]
    assert len(self_links) == 1, "one atom:link rel=self"
    assert self_links[0].get("href") == self_url, "self link = where the file is served"
    assert self_links[0].get("type") == "application/rss+xml"
    channel_link = channel.findtext("link")
    assert channel_link != self_url and _absolute(channel_link or ""), (
        "channel link is the HTML page"
    )
    ids: list[str] = []
    dates: list[datetime] = []
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid is not None and guid.text, "every item has a guid"
        permalink = guid.get("isPermaLink", "true") == "true"
        assert not permalink or guid.text == item.findtext("link"), "a permalink guid is the URL"
        assert _absolute(item.findtext("link") or ""), "item link is absolute"
        dates.append(parsedate_to_datetime(item.findtext("pubDate") or ""))
        assert item.find(f"{{{MEDIA}}}group") is None, "media:content directly in the item"
        _check_media(item)
        enclosures = item.findall("enclosure")
        assert len(enclosures) <= 1, "RSS 2.0 allows one enclosure per item"
        for enclosure in enclosures:
            assert _absolute(enclosure.get("url") or "")
            assert (enclosure.get("type") or "").startswith("image/")
            assert (enclosure.get("length") or "").isdigit()
        assert (item.findtext(f"{{{DC}}}creator") or "").strip(), "every item names its author"
        ids.append(guid.text)
    assert len(set(ids)) == len(ids), "guids are unique"
    last_build = parsedate_to_datetime(channel.findtext("lastBuildDate") or "")
    if dates:
        assert last_build == max(dates), "lastBuildDate is the newest item's date"
    return ids


def check_atom(path: Path, self_url: str) -> list[str]:
    root = etree.fromstring(path.read_bytes())
    a = f"{{{ATOM}}}"
    assert root.tag == f"{a}feed"
    assert (root.findtext(f"{a}id") or "").strip() and (root.findtext(f"{a}title") or "").strip()
    links = {(link.get("rel") or "alternate"): link for link in root.findall(f"{a}link")}
    assert links["self"].get("href") == self_url
    assert links["self"].get("type") == "application/atom+xml"
    assert (
        links["alternate"].get("type") == "text/html" and links["alternate"].get("href") != self_url
    )
    feed_updated = datetime.fromisoformat(root.findtext(f"{a}updated") or "")
    ids: list[str] = []
    updates: list[datetime] = []
    for entry in root.findall(f"{a}entry"):
        entry_id = entry.findtext(f"{a}id") or ""
        assert urlsplit(entry_id).scheme, "an entry id is an IRI"
        assert (entry.findtext(f"{a}title") or "").strip()
        updated = entry.findtext(f"{a}updated")
        assert updated and RFC3339.match(updated), "every entry has updated (RFC 3339)"
        updates.append(datetime.fromisoformat(updated))
        assert (entry.findtext(f"{a}author/{a}name") or "").strip(), "every entry has an author"
        assert any(
            (link.get("rel") or "alternate") == "alternate" and _absolute(link.get("href") or "")
            for link in entry.findall(f"{a}link")
        )
        summary = entry.find(f"{a}summary")
        if summary is not None:
            assert summary.get("type", "text") == "text"
        content = entry.find(f"{a}content")
        assert content is not None and content.get("type") == "html"
        assert entry.find(f"{{{MEDIA}}}group") is None
        _check_media(entry)
        ids.append(entry_id)
    assert len(set(ids)) == len(ids), "entry ids are unique"
    assert len(set(updates)) == len(updates), "no two entries share an updated value"
    if updates:
        assert feed_updated == max(updates), "feed updated is the newest entry's"
    return ids


def check_jsonfeed(path: Path, feed_url: str) -> list[str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["title"]
    assert doc["feed_url"] == feed_url
    assert _absolute(doc["home_page_url"]) and doc["home_page_url"] != feed_url
    assert "author" not in doc, "1.1 uses authors, not the 1.0 author"
    ids: list[str] = []
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
        assert RFC3339.match(item["date_published"])
        assert _absolute(item["url"])
        assert item["author"] == item["authors"][0], "the 1.0 author repeats the first author"
        assert item["_feedpub"]["type"] in ("article", "video")
        for author in item.get("authors", []):
            assert isinstance(author["name"], str) and author["name"]
            if "avatar" in author:
                assert _absolute(author["avatar"])
        if "image" in item:
            assert _absolute(item["image"])
        ids.append(item["id"])
    assert len(set(ids)) == len(ids), "item ids are unique in the feed"
    return ids


def _check_media(item: etree._Element) -> None:
    """Media RSS: an image's media:content has a URL; a video's a media:player instead."""
    for media in item.findall(f"{{{MEDIA}}}content"):
        if media.get("medium") == "video":
            player = media.find(f"{{{MEDIA}}}player")
            assert player is not None and _absolute(player.get("url") or "")
        else:
            assert _absolute(media.get("url") or "") and media.get("medium") == "image"
    for thumbnail in item.findall(f"{{{MEDIA}}}thumbnail"):
        assert _absolute(thumbnail.get("url") or "")


def check_feed_folder(out: Path, folder: str, base_url: str) -> list[str]:
    """Check the three formats of one feed; they must hold the same items in the same order."""
    where = out / folder if folder else out
    prefix = base_url + (folder + "/" if folder else "")
    rss = check_rss(where / "rss.xml", prefix + "rss.xml")
    atom = check_atom(where / "atom.xml", prefix + "atom.xml")
    js = check_jsonfeed(where / "feed.json", prefix + "feed.json")
    assert rss == atom == js, f"{folder or 'site'}: the formats disagree on items or order"
    return rss
