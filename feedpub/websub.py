"""WebSub publishing: tell each hub which feed URLs just changed (WebSub § 7).

One ``hub.mode=publish`` POST per changed feed URL per hub. A hub that fails
is a warning, never a failed build: the feeds are already written.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

import httpx

from . import __version__

USER_AGENT = f"feedpub/{__version__} (+https://pypi.org/project/feedpub/)"
ATTEMPTS = 3


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
    problem = None
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(0.25 * 2**attempt * (1 + random.random()))  # backoff with jitter
        try:
            response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
        except httpx.HTTPError as e:
            problem = f"{type(e).__name__}: {e}"
            continue
        if response.is_success:
            return None
        problem = f"HTTP {response.status_code}"
        if response.status_code < 500 and response.status_code != 429:
            break  # the hub refused: asking again will not help
    return problem
