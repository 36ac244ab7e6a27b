"""The shrink guard: an empty or half-missing source must not wipe what subscribers have.

An unmounted disk, a failed ``git pull`` or a typo in ``source`` looks, to a
build, like a site whose stories were all deleted. Before anything is
written, a build is compared with the last one that was published (its
report in the state file, its feeds in the output folder's manifest) and
refused when it would lose ``max_shrink`` (half, unless configured) or more
of the stories or of the feeds, at least ``MIN_LOSS`` of them, or when no
story would remain at all. ``allow_shrink`` (``--allow-shrink``) lets it through.
"""

from __future__ import annotations

import json

from .config import Config
from .errors import ShrinkError
from .model import ArticleHead, Feed

# Losing fewer than this many stories (or feeds) is never refused: a small
# site dropping one of its two topics is an edit, not an accident.
MIN_LOSS = 3
SHOWN = 10  # feed folders named in the message


def check_shrink(
    config: Config,
    last_report: str | None,
    last_feeds: set[str],
    feeds: list[Feed[ArticleHead]],
    published: int,
) -> None:
    """Refuse a build that would lose too much of the last one (see the module docstring).

    ``last_feeds`` are the folders of the last build's subscription feeds,
    ``feeds`` and ``published`` this build's.

    Raises:
        ShrinkError: the build would shrink past the limit; it says by how much.
    """
    if config.allow_shrink:
        return
    last_published = _published(last_report)
    removed = sorted(last_feeds - {f.folder for f in feeds})
    problems = []
    if published == 0 and (last_published or len(last_feeds) > 1):
        problems.append("no story would remain")
    if last_published and _too_much(last_published - published, last_published, config):
        problems.append(
            f"{published:,} of the last build's {last_published:,} stories would remain"
        )
    if _too_much(len(removed), len(last_feeds), config):
        problems.append(f"{len(removed):,} of its {len(last_feeds):,} feeds would be removed")
    if not problems:
        return
    shown = ", ".join(f or "(the site feed)" for f in removed[:SHOWN])
    more = f" and {len(removed) - SHOWN:,} more" if len(removed) > SHOWN else ""
    raise ShrinkError(
        f"refusing to publish: {'; '.join(problems)}"
        + (f" ({shown}{more})" if removed else "")
        + ". Nothing was written or removed. If the source is right (not an empty or "
        "half-mounted folder), build again with --allow-shrink.",
        tuple(removed),
    )


def _too_much(lost: int, last: int, config: Config) -> bool:
    return lost >= MIN_LOSS and lost >= config.max_shrink * last


def _published(report: str | None) -> int:
    if report is None:
        return 0
    try:
        value = json.loads(report).get("published", 0)
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) else 0
