"""Link liveness: check every article's URL, politely, and remember what was found.

check.py     the engine (one async client, global and per-host limits) and check_links
history.py   how long a result is trusted; what a new check adds to a URL's history
report.py    reports that name names: problem links, the files citing them, table and Markdown
retry.py     the user agent and retry policy shared with WebSub pings
safenet.py   which addresses may be checked; connections pinned to the vetted address
"""

from __future__ import annotations

from .check import LinkChecker, LinkReport, check_links

__all__ = ["LinkChecker", "LinkReport", "check_links"]
