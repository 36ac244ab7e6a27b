"""One link check over a site: cached results, the network for the rest, history, the state file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..config import LinkPolicy
from ..model import LinkResult, LinkState
from ..store import State
from ..store.links import load_links, save_links
from .check import NETWORK_DOWN, CheckRun, LinkChecker, Progress, utcnow
from .history import record_check, still_trusted


@dataclass(frozen=True, slots=True)
class LinkReport:
    """The outcome of ``check_links``: one result per URL, sorted by URL, and what it cost.

    ``unfinished`` counts the URLs the run's deadline left unchecked (their
    last stored result stands in, or an unknown one); ``network_down`` is
    (hosts unreachable, hosts tried) when nearly every host failed to resolve
    or connect, else None.
    """

    results: tuple[LinkResult, ...]
    requests: int
    cache_hits: int
    confirmed_dead: int
    seconds: float
    unfinished: int = 0
    network_down: tuple[int, int] | None = None

    def counts(self) -> dict[str, int]:
        """How many links fell in each class, every class listed."""
        counts = {state.value: 0 for state in LinkState}
        for result in self.results:
            counts[result.state.value] += 1
        return counts

    def summary(self) -> dict[str, object]:
        return {
            "links": len(self.results),
            **self.counts(),
            "confirmed_dead": self.confirmed_dead,
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "unfinished": self.unfinished,
            "network_down": self.network_down is not None,
            "seconds": round(self.seconds, 3),
        }

    def to_dict(self, files: Mapping[str, Sequence[str]] | None = None) -> dict[str, object]:
        """Every result, with the files citing each URL when ``files`` maps them."""
        return {
            "links": [
                {
                    "url": r.url,
                    "state": r.state.value,
                    "http_status": r.http_status,
                    "final_url": r.final_url,
                    "error": r.error,
                    "checked_at": r.checked_at.isoformat(),
                    **({"files": list(files.get(r.url, ()))} if files is not None else {}),
                }
                for r in self.results
            ],
            "summary": self.summary(),
        }


def check_links(
    urls: Iterable[str],
    policy: LinkPolicy,
    state: State | None = None,
    *,
    recheck: bool = False,
    progress: Progress | None = None,
    checker: LinkChecker | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> LinkReport:
    """Classify every URL, re-checking only those whose stored result is stale.

    Results still inside their class's time to live are taken from ``state``
    (unless ``recheck``); the others are checked over the network, added to
    their history and stored. Failures seen while the network looked down are
    trusted for ``policy.network_down_minutes`` only. URLs the run's deadline
    stopped are not stored. Runs its own event loop: call it from synchronous
    code (async code can await ``LinkChecker.check``).

    Raises:
        ConfigError: the state file cannot be read or written.
    """
    started = time.perf_counter()
    unique = sorted(set(urls))
    previous = load_links(state, unique) if state is not None else {}
    now = clock()
    briefly = timedelta(minutes=policy.network_down_minutes)
    cached = {
        url: result
        for url, result in previous.items()
        if not recheck
        and still_trusted(result, policy, now)
        and not (NETWORK_DOWN in (result.error or "") and now - result.checked_at >= briefly)
    }
    due = [url for url in unique if url not in cached]
    checker = checker or LinkChecker(policy, clock=clock)
    run = asyncio.run(checker.check(due, progress)) if due else CheckRun((), 0)
    checked = [
        record_check(previous.get(r.url), r) for r in run.results if r.url not in run.unfinished
    ]
    if state is not None:
        save_links(state, checked)
    stand_ins = [
        previous.get(r.url) or r for r in run.results if r.url in run.unfinished
    ]  # the last known result, however old, beats none for the link policy
    results = tuple(sorted([*cached.values(), *checked, *stand_ins], key=lambda r: r.url))
    return LinkReport(
        results=results,
        requests=run.requests,
        cache_hits=len(cached),
        confirmed_dead=sum(r.confirmed_dead(policy.confirm_after) for r in results),
        seconds=time.perf_counter() - started,
        unfinished=len(run.unfinished),
        network_down=(run.unreachable_hosts, run.hosts) if run.network_down else None,
    )
