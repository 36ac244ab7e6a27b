"""Pacing a link check: request slots (global and per host) and each URL's time budget."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque


class HostSlots:
    """At most ``total`` requests at a time, and ``per_host`` to any one host.

    A freed slot goes first to another request for the host that just
    answered, whose connection is open and idle in the pool; only when that
    host has nothing waiting does it go to the host that has waited longest.
    So a host's links are checked over the same few kept-alive connections,
    instead of every host being visited in turn and every connection closed
    to make room for the next host's.
    """

    def __init__(self, total: int, per_host: int) -> None:
        self.free = total
        self.per_host = per_host
        self.busy: Counter[str] = Counter()
        self.waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self.hosts: deque[str] = deque()  # hosts with waiters, in order of arrival

    async def acquire(self, host: str) -> None:
        if self.free and self.busy[host] < self.per_host and not self.waiting.get(host):
            self._grant(host)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self.waiting.setdefault(host, deque())
        if not queue:
            self.hosts.append(host)
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(host)  # granted, but cancelled before it could be used
            raise

    def release(self, host: str) -> None:
        self.busy[host] -= 1
        self.free += 1
        if self._wake(host):
            return
        looked = 0
        while looked < len(self.hosts):
            other = self.hosts[0]
            if self._wake(other):
                return
            if self.hosts and self.hosts[0] == other:  # still waiting: at its host's limit
                self.hosts.rotate(-1)
                looked += 1
            # else its waiters had all been cancelled, and it left the queue

    def _wake(self, host: str) -> bool:
        queue = self.waiting.get(host)
        while queue and self.busy[host] < self.per_host:
            future = queue.popleft()
            if not future.done():  # skip waiters cancelled meanwhile
                self._grant(host)
                future.set_result(None)
                if not queue:
                    self._forget(host)
                return True
        if queue is not None and not queue:
            self._forget(host)
        return False

    def _forget(self, host: str) -> None:
        del self.waiting[host]
        with contextlib.suppress(ValueError):  # not queued: it was granted at once
            self.hosts.remove(host)

    def _grant(self, host: str) -> None:
        self.free -= 1
        self.busy[host] += 1


class TimeBudget:
    """The time one URL may still spend on its own requests, lookups and waits."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.left = seconds

    def spend(self, seconds: float) -> None:
        self.left -= seconds

    def out_of_time(self) -> str:
        return f"out of time: no final answer within the per-URL deadline of {self.seconds:g} s"
