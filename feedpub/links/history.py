"""A URL's history of checks: how long a result is trusted, and what a new check adds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ..config import LinkPolicy
from ..model import LinkResult, LinkState

_FAILURES = frozenset({LinkState.DEAD, LinkState.BLOCKED, LinkState.UNKNOWN})


def time_to_live(state: LinkState, policy: LinkPolicy) -> timedelta:
    """How long a result of this class is trusted before the link is checked again."""
    return {
        LinkState.ALIVE: policy.ttl_alive,
        LinkState.DEAD: policy.ttl_dead,
        LinkState.BLOCKED: policy.ttl_blocked,
        LinkState.UNKNOWN: policy.ttl_unknown,
    }.get(state, timedelta(0))


def still_trusted(result: LinkResult, policy: LinkPolicy, now: datetime) -> bool:
    """Whether a stored result is still inside its class's time to live."""
    return now - result.checked_at < time_to_live(result.state, policy)


def record_check(previous: LinkResult | None, check: LinkResult) -> LinkResult:
    """Add a new check to a URL's history.

    A dead link's streak starts at its first dead check and continues only
    while every following check finds it dead: one live (or blocked, or
    timed-out) answer in between starts the confirmation over.
    """
    if check.state is LinkState.SKIPPED:
        return check
    first_checked = previous.first_checked if previous is not None else None
    failures = 0
    if check.state in _FAILURES:
        failures = (previous.consecutive_failures if previous is not None else 0) + 1
    dead_since, dead_checks = None, 0
    if check.state is LinkState.DEAD:
        if previous is not None and previous.state is LinkState.DEAD and previous.dead_since:
            dead_since, dead_checks = previous.dead_since, previous.dead_checks + 1
        else:
            dead_since, dead_checks = check.checked_at, 1
    return replace(
        check,
        first_checked=first_checked or check.checked_at,
        consecutive_failures=failures,
        dead_since=dead_since,
        dead_checks=dead_checks,
    )
