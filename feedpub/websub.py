"""WebSub publishing: tell each hub which feed URLs just changed (WebSub § 7).

One ``hub.mode=publish`` POST per changed feed URL per hub. A hub that fails
is a warning, never a failed build: the feeds are already written.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx

from .links.retry import USER_AGENT, Retrying, is_transient, parse_retry_after

# A hub is one server asked a few times in a row: back off from half a second.
RETRYING = Retrying(attempts=3, backoff=1.0, max_backoff=4.0, retry_after_cap=10.0)


def ping_hubs(
    hubs: Sequence[str],
    urls: Sequence[str],
    *,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Notify every hub of every changed URL; returns a warning per failed ping."""
    warnings: list[str] = []
    if not hubs or not urls:
        return warnings
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(timeout=timeout, headers=headers, transport=transport) as client:
        for hub in hubs:
            for done, url in enumerate(urls):
                problem = _publish(client, hub, url, sleep)
                if problem:
                    # A hub that fails every retry is down: do not hold the cron run
                    # hostage retrying it for each remaining URL.
                    left = len(urls) - done
                    warnings.append(
                        f"WebSub hub {hub} failed ({problem}); "
                        f"{left} changed feed URL{'s' if left > 1 else ''} not announced"
                    )
                    break
    return warnings


def _publish(
    client: httpx.Client, hub: str, url: str, sleep: Callable[[float], None]
) -> str | None:
    retry = 0
    while True:
        retry_after: float | None = None
        try:
            response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
        except httpx.HTTPError as e:
            problem = f"{type(e).__name__}: {e}"
        else:
            if response.is_success:
                return None
            problem = f"HTTP {response.status_code}"
            if not is_transient(response.status_code):
                return problem  # the hub refused: asking again will not help
            retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        retry += 1
        wait = RETRYING.wait_before(retry, retry_after, random.random())
        if wait is None:
            return problem
        sleep(wait)
