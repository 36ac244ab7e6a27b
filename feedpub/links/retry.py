"""How feedpub asks other servers again: one user agent, one retry policy.

Shared by link checks (links/check.py) and WebSub pings (websub.py), so both
back off the same way and name themselves the same way. Pure: no I/O here,
the callers sleep and send.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

from .. import __version__

USER_AGENT = f"feedpub/{__version__} (+https://pypi.org/project/feedpub/)"


def is_transient(status: int) -> bool:
    """Whether an HTTP status may well be different if asked again: 429 and 5xx but 501."""
    return status == 429 or (status >= 500 and status != 501)


@dataclass(frozen=True, slots=True)
class Retrying:
    """How often and how patiently a request is retried after a transient failure.

    A ``Retry-After`` (RFC 9110 § 10.2.3) is honoured up to ``retry_after_cap``
    seconds; a longer one is not waited for, and the answer stands.
    """

    attempts: int = 3
    backoff: float = 0.5  # seconds before the first retry, doubled for each next one
    max_backoff: float = 8.0
    retry_after_cap: float = 30.0

    def delay(self, retry: int, jitter: float) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random (0 ≤ jitter < 1)."""
        base: float = min(self.max_backoff, self.backoff * 2.0 ** (retry - 1))
        return base / 2 + base / 2 * jitter

    def wait_before(self, retry: int, retry_after: float | None, jitter: float) -> float | None:
        """Seconds to wait before retry number ``retry`` (1 for the first), or None: give up.

        None when the attempts are used up or the server asked for a wait
        longer than ``retry_after_cap``; the server's wait when it gave one,
        the backoff otherwise.
        """
        if retry >= self.attempts:
            return None
        if retry_after is None:
            return self.delay(retry, jitter)
        return retry_after if retry_after <= self.retry_after_cap else None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
