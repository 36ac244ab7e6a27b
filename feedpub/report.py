"""What a build did: the BuildReport the CLI prints, and its JSON form.

The JSON form is what ``--json`` prints and what the state file keeps, so a
build that finds nothing changed can say what the last one published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .model import Rejection

if TYPE_CHECKING:
    from .links import LinkReport
    from .selection import DeadLinkStory


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did. ``files_read`` = published + drafts + duplicates + rejected."""

    files_read: int
    published: int
    drafts: int
    duplicates: int
    rejected: tuple[Rejection, ...]
    warnings: tuple[str, ...]
    feeds: int
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]
    rendered: int = 0  # feeds rendered; the others were unchanged and skipped
    skipped: bool = False  # nothing changed since the last build: nothing was done
    dropped_dead: int = 0  # left out: link confirmed dead (on_dead = "drop")
    flagged_dead: int = 0  # published with a dead-link mark (on_dead = "flag")
    topics_from_keywords: int = 0  # articles filed under a topic their text names
    scheduled: int = 0  # dated in the future: held back until their date
    next_release: datetime | None = None  # when the next of those is due
    link_report: LinkReport | None = None  # with build --check-links
    dead_links: tuple[DeadLinkStory, ...] = ()  # each story dropped or flagged, and why
    changed_feeds: tuple[str, ...] = ()  # URLs of the subscription feeds written: for WebSub
    # The changed files were applied to the last build's record (incremental.py), not
    # every story grouped again.
    incremental: bool = False

    def to_dict(self) -> dict[str, object]:
        document: dict[str, object] = {
            "files_read": self.files_read,
            "published": self.published,
            "drafts": self.drafts,
            "duplicates": self.duplicates,
            "rejected": [
                {"path": r.path, "line": r.line, "reason": r.reason} for r in self.rejected
            ],
            "warnings": list(self.warnings),
            "feeds": self.feeds,
            "feeds_rendered": self.rendered,
            "files_written": list(self.written),
            "files_unchanged": self.unchanged,
            "files_removed": list(self.removed),
            "nothing_changed": self.skipped,
            "dropped_dead": self.dropped_dead,
            "flagged_dead": self.flagged_dead,
            "dead_links": [story.to_dict() for story in self.dead_links],
            "topics_from_keywords": self.topics_from_keywords,
            "scheduled": self.scheduled,
            "next_release": _iso(self.next_release),
            "changed_feeds": list(self.changed_feeds),
            "incremental": self.incremental,
        }
        if self.link_report is not None:
            document["link_check"] = self.link_report.summary()
        return document

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def report_from_json(text: str, unchanged: int) -> BuildReport:
    """The report of the last build, as a build that changed nothing tells it."""
    data = json.loads(text)
    return BuildReport(
        files_read=data["files_read"],
        published=data["published"],
        drafts=data["drafts"],
        duplicates=data["duplicates"],
        rejected=tuple(Rejection(r["path"], r["reason"], r["line"]) for r in data["rejected"]),
        warnings=tuple(data["warnings"]),
        feeds=data["feeds"],
        dropped_dead=data.get("dropped_dead", 0),
        flagged_dead=data.get("flagged_dead", 0),
        topics_from_keywords=data.get("topics_from_keywords", 0),
        scheduled=data.get("scheduled", 0),
        next_release=_from_iso(data.get("next_release")),
        written=(),
        unchanged=unchanged,
        removed=(),
        rendered=0,
        skipped=True,
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _from_iso(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
