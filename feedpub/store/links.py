"""Link-check results in the state file.

The ``links`` table (migration 2 in state.py) holds the latest result per URL
with its history (see links/history.py). Skipped links are never stored:
whether a URL is skipped depends on the policy of the run, not on the site.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..model import LinkResult, LinkState
from .state import State, guarded

_COLUMNS = (
    "url, state, http_status, final_url, error, first_checked, last_checked,"
    " consecutive_failures, dead_since, dead_checks"
)


@guarded
def load_links(state: State, urls: Sequence[str]) -> dict[str, LinkResult]:
    """The stored results for ``urls`` (those that have one).

    Raises:
        StateError: the state file cannot be read.
    """
    found: dict[str, LinkResult] = {}
    for start in range(0, len(urls), 500):  # SQLite caps the number of parameters
        chunk = urls[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = state.connection.execute(
            f"SELECT {_COLUMNS} FROM links WHERE url IN ({marks})", chunk
        )
        for row in rows:
            result = _from_row(row)
            if result is not None:
                found[result.url] = result
    return found


@guarded
def save_links(state: State, results: Iterable[LinkResult]) -> None:
    """Store results (skipped ones are left out), replacing earlier ones, in one transaction.

    Raises:
        StateError: the state file cannot be written.
    """
    rows = [_to_row(r) for r in results if r.state is not LinkState.SKIPPED]
    with state.transaction() as connection:
        connection.executemany(
            f"INSERT OR REPLACE INTO links ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows
        )


def _to_row(r: LinkResult) -> tuple[object, ...]:
    return (
        r.url,
        r.state.value,
        r.http_status,
        r.final_url,
        r.error,
        (r.first_checked or r.checked_at).isoformat(),
        r.checked_at.isoformat(),
        r.consecutive_failures,
        r.dead_since.isoformat() if r.dead_since else None,
        r.dead_checks,
    )


def _from_row(row: Any) -> LinkResult | None:  # Any: a row straight from sqlite3
    url, state, status, final_url, error, first, last, failures, dead_since, dead = row
    try:
        link_state = LinkState(state)
    except ValueError:
        return None  # a class this feedpub does not know: check the link again
    return LinkResult(
        url=url,
        state=link_state,
        checked_at=datetime.fromisoformat(last),
        http_status=status,
        final_url=final_url,
        error=error,
        first_checked=datetime.fromisoformat(first),
        consecutive_failures=failures,
        dead_since=datetime.fromisoformat(dead_since) if dead_since else None,
        dead_checks=dead,
    )
