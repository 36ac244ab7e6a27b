"""When each story's content last changed: what Atom ``<updated>`` and JSON Feed
``date_modified`` show.

A story is first seen unmodified. When a build renders it with content that
differs from what was recorded (its title, link, excerpt, HTML, images,
related coverage, provider, topics or type; not its quality or heat, which
change all the time), that build's ``now`` becomes its modified date, kept
until the next edit. So rebuilding unchanged content changes no byte, and an
edit moves that story's date alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from ..instants import from_micros, micros
from ..model import Article
from .state import State, guarded


def content_digest(article: Article) -> str:
    """A hash of what a reader sees of a story."""
    parts = [
        article.title,
        article.url,
        article.kind.value,
        article.excerpt,
        article.featured_html,
        repr(article.provider),
        repr(article.topics),
        repr([(i.url, i.width, i.height) for i in article.images]),
        repr([(r.title, r.url, r.provider, r.published) for r in article.related]),
    ]
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@guarded
def record_changes(state: State, articles: Iterable[Article], now: datetime) -> dict[str, datetime]:
    """Record the content of ``articles``; an edit since the last record is dated ``now``.

    Returns the modified date of each of ``articles`` that has one, by key.
    """
    wanted = {a.key: content_digest(a) for a in articles}
    keys = sorted(wanted)
    known: dict[str, tuple[str, int | None]] = {}
    for start in range(0, len(keys), 500):  # SQLite caps the number of parameters
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for key, content, modified in state.connection.execute(
            f"SELECT key, content, modified FROM changes WHERE key IN ({marks})", chunk
        ):
            known[key] = (content, modified)
    stamp = micros(now)
    updates: list[tuple[str, str, int | None]] = []
    dates: dict[str, datetime] = {}
    for key, content in wanted.items():
        previous = known.get(key)
        if previous is None:
            updates.append((key, content, None))
            continue
        modified = previous[1]
        if previous[0] != content:
            modified = stamp
            updates.append((key, content, modified))
        if modified is not None:
            dates[key] = from_micros(modified)
    if updates:
        with state.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO changes VALUES (?, ?, ?)", updates)
    return dates
