"""Pure selection, before grouping: what may be published, once, in feed order.

Drafts out (unless asked), stories dated in the future held until their date,
files carrying one URL merged, the link policy applied; nothing here touches
the file system or the clock: ``now`` comes in as an argument.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from .config import LinkPolicy, OnDead
from .model import ArticleHead, LinkResult, LinkState

# Lowercase scheme and host, no userinfo, port or fragment, a path or nothing after the host.
_ALREADY_CANONICAL = re.compile(r"https?://[a-z0-9.-]*[a-z0-9-](?:/[^#]*)?")


def canonical_url(url: str) -> str:
    """The URL two files must share to be the same story.

    Scheme and host are case-insensitive, a default port and the fragment say
    nothing about the page (RFC 3986 § 6.2.2-6.2.3); path and query are kept.
    """
    if _ALREADY_CANONICAL.fullmatch(url):  # most URLs: no parsing needed
        return url if url.find("/", url.find("//") + 2) > 0 else url + "/"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else f"{host}:{port}"
    )
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


# A story dated this little ahead of the build's clock is published: the clock of
# the machine that wrote it may run a little fast. Feed dates can be this far ahead.
SCHEDULE_GRACE = timedelta(seconds=60)


def order_key(article: ArticleHead) -> tuple[float, int, str, str]:
    """Newest first; the same instant → higher quality first; then id, then path."""
    return (-article.published.timestamp(), -article.quality, article.key, article.path)


def _better(candidate: ArticleHead, kept: ArticleHead) -> bool:
    """Of two files with one URL, keep the higher quality, then the newer, then the first path."""
    a = (candidate.quality, candidate.published, _neg(candidate.path))
    b = (kept.quality, kept.published, _neg(kept.path))
    return a > b


def _neg(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def hold_scheduled(
    articles: Iterable[ArticleHead], now: datetime
) -> tuple[list[ArticleHead], list[ArticleHead]]:
    """Split off the stories dated after ``now`` (plus SCHEDULE_GRACE): they wait for their date.

    Drafts stay with the others, to be counted as drafts.
    """
    ready: list[ArticleHead] = []
    held: list[ArticleHead] = []
    release_after = now + SCHEDULE_GRACE
    for article in articles:
        waiting = article.published > release_after and not article.draft
        (held if waiting else ready).append(article)
    return ready, held


def select_articles(
    articles: Iterable[ArticleHead], include_drafts: bool
) -> tuple[list[ArticleHead], int, int]:
    """Drop drafts (unless asked) and merge duplicates by canonical URL.

    Returns the kept articles in feed order, the number of drafts left out and
    the number of duplicate files merged away.
    """
    drafts = 0
    by_url: dict[str, ArticleHead] = {}
    duplicates = 0
    for article in articles:
        if article.draft and not include_drafts:
            drafts += 1
            continue
        url = canonical_url(article.url)
        kept = by_url.get(url)
        if kept is None:
            by_url[url] = article
            continue
        duplicates += 1
        if _better(article, kept):
            by_url[url] = article
    kept_articles = sorted(by_url.values(), key=order_key)
    return _distinct_updates(_unique_keys(kept_articles)), drafts, duplicates


def _unique_keys(articles: list[ArticleHead]) -> list[ArticleHead]:
    """Two different stories may come from files of one name in two sources: keep ids distinct."""
    if len({a.key for a in articles}) == len(articles):
        return articles
    seen: dict[str, int] = {}
    result: list[ArticleHead] = []
    for article in sorted(articles, key=lambda a: (a.key, a.path)):
        count = seen.get(article.key, 0)
        seen[article.key] = count + 1
        if count:
            article = replace(article, key=f"{article.key}-{count + 1}")
        result.append(article)
    result.sort(key=order_key)
    return result


def _distinct_updates(articles: list[ArticleHead]) -> list[ArticleHead]:
    """Give stories published at one instant distinct Atom ``updated`` values.

    Feed readers and the W3C validator take two entries with one ``updated``
    as a mistake. Each story in such a group is moved up by 1-999 ms, chosen
    from a hash of its own id, so the shift never depends on the others. A
    group of more than 999 (a scraper that dates every story at midnight)
    also takes microseconds, so it stays within the second.
    """
    # ``articles`` is in feed order, newest first: equal instants are neighbours.
    runs: list[list[int]] = []
    for index in range(1, len(articles)):
        if articles[index].published == articles[index - 1].published:
            if runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            else:
                runs.append([index - 1, index])
    result = list(articles)
    for indexes in runs:
        instant = articles[indexes[0]].published
        shifts = instant_shifts([articles[i].key for i in indexes])
        for index in indexes:
            result[index] = replace(articles[index], updated=instant + shifts[articles[index].key])
    return result


def instant_shifts(keys: list[str]) -> dict[str, timedelta]:
    """How far each of the stories (by id) published at one instant is moved up: 1-999 ms,
    chosen from a hash of its own id, plus microseconds past 999 of them."""
    used: set[int] = set()
    slots = max(999, len(keys))  # never fewer slots than stories: the probe ends
    shifts: dict[str, timedelta] = {}
    for key in sorted(keys):
        digest = hashlib.sha1(key.encode("utf-8")).digest()
        slot = int.from_bytes(digest[:4], "big") % slots
        while slot in used:
            slot = (slot + 1) % slots
        used.add(slot)
        shifts[key] = timedelta(milliseconds=slot % 999 + 1, microseconds=slot // 999)
    return shifts


@dataclass(frozen=True, slots=True)
class DeadLinkStory:
    """A story the link policy acted on: its file, its URL, what was done and why."""

    path: str
    url: str
    action: str  # "dropped" or "flagged"
    reason: str  # e.g. "HTTP 404 Not Found; dead since 2024-06-01 12:00 UTC, 3 checks"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "url": self.url, "action": self.action, "reason": self.reason}


def apply_link_policy(
    articles: Iterable[ArticleHead], links: Mapping[str, LinkResult], policy: LinkPolicy
) -> tuple[tuple[ArticleHead, ...], tuple[DeadLinkStory, ...]]:
    """Drop or flag the articles whose link is confirmed dead, as ``policy.on_dead`` says.

    Only a link seen dead on two checks at least ``confirm_after`` apart
    counts; blocked, unknown and skipped links never cost an article. Returns
    the articles kept (in their order, flagged ones with ``link_state=DEAD``)
    and a record of each story dropped or flagged, in the articles' order.
    """
    kept: list[ArticleHead] = []
    acted: list[DeadLinkStory] = []
    for article in articles:
        result = links.get(article.url)
        if result is None or not result.confirmed_dead(policy.confirm_after):
            kept.append(article)
        elif policy.on_dead is OnDead.DROP:
            acted.append(DeadLinkStory(article.path, article.url, "dropped", _why(result)))
        elif policy.on_dead is OnDead.FLAG:
            kept.append(replace(article, link_state=LinkState.DEAD))
            acted.append(DeadLinkStory(article.path, article.url, "flagged", _why(result)))
        else:
            kept.append(article)
    return tuple(kept), tuple(acted)


def _why(result: LinkResult) -> str:
    what = result.error or (f"HTTP {result.http_status}" if result.http_status else "dead")
    since = f"{result.dead_since:%Y-%m-%d %H:%M} UTC" if result.dead_since else "?"
    return f"{what}; dead since {since}, {result.dead_checks} checks"
