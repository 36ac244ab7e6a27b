"""Link liveness: classify every article URL, accurately, politely and fast.

    check_links(urls, policy, state)    cached results → network → history → state file
      └── LinkChecker.check(urls)       async; one httpx.AsyncClient; global and per-host limits;
            │                           the run's deadline
            └── one URL                 approve host → HEAD (GET if refused) → retries
                                        → redirects, hop by hop → a class; the URL's deadline

Classes, not raw codes (see LinkState): a site that refuses robots (401, 403,
429) says nothing about the story, and a timeout or a 5xx is transient; only
404, 410 and a name that does not exist mean dead. One URL's failure is a
result, never an exception. Every host, redirect targets included, passes the
address policy in safenet.py before a request is sent to it.

Time is bounded twice: each URL has ``policy.url_deadline`` seconds for all its
attempts, redirect hops and waits together (time spent queueing behind other
URLs does not count), and a run stops after ``policy.run_deadline`` seconds;
the URLs it did not finish are reported unknown and not stored, so the next
run checks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
import ssl
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx

from ..config import LinkPolicy
from ..model import LinkResult, LinkState
from ..store import State
from ..store.links import load_links, save_links
from .history import is_fresh, record_check
from .retry import USER_AGENT, Retrying, is_transient, parse_retry_after
from .safenet import PinnedTransport, Resolver, address_refusal, system_resolver

__all__ = [
    "MAX_REDIRECTS",
    "USER_AGENT",
    "CheckRun",
    "LinkChecker",
    "LinkReport",
    "Progress",
    "Retrying",
    "check_links",
    "classify_status",
    "parse_retry_after",
]

MAX_REDIRECTS = 10
DEFAULT_RETRYING = Retrying()
# Marks the error of a failure seen while the network looked down; such results
# are trusted for policy.network_down_minutes only (see check_links).
NETWORK_DOWN = "the network looked down"
NETWORK_DOWN_MIN_HOSTS = 5  # fewer hosts than this say nothing about the network
NETWORK_DOWN_SHARE = 0.9  # of the hosts checked, this share failed to resolve or connect

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEAD_REFUSED = frozenset({405, 501})  # HEAD not supported: use GET, for the rest of the run too
_HEAD_DOUBTFUL = frozenset({403, 404})  # some servers answer HEAD alone this way: ask with GET
_DEAD = frozenset({404, 410})
_BLOCKED = frozenset({401, 403, 407, 429, 451})
_NO_SUCH_NAME = frozenset(
    {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
)  # getaddrinfo: the name does not exist, or has no address; not a temporary failure

Progress = Callable[[int, int, int], None]  # (URLs done, URLs to check, dead so far)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def classify_status(status: int) -> tuple[LinkState, str | None]:
    """The class of a final HTTP status (after redirects and retries), and an error text."""
    if 200 <= status < 300:
        return LinkState.ALIVE, None
    text = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
    if status in _DEAD:
        return LinkState.DEAD, text
    if status in _BLOCKED:
        return LinkState.BLOCKED, text
    if 300 <= status < 400:
        return LinkState.UNKNOWN, f"{text} without a usable Location"
    return LinkState.UNKNOWN, text


@dataclass(frozen=True, slots=True)
class _Answer:
    """What the checker needs from one HTTP response; its body is never read."""

    method: str
    status: int
    location: str | None
    retry_after: str | None
    note: str | None = None  # why a transient answer was not retried


@dataclass(frozen=True, slots=True)
class _Failure:
    """A hop that ended without a usable response."""

    state: LinkState
    error: str
    retry: bool = False
    dns: bool = False  # the host name does not exist
    unreachable: bool = False  # the host could not be resolved or connected to


@dataclass(frozen=True, slots=True)
class CheckRun:
    """One network run: a result per URL, in the order asked, and what it saw.

    ``unfinished`` are the URLs the run's deadline stopped (their results are
    placeholders, not to be stored); ``hosts`` and ``unreachable_hosts``
    count the host names tried and those that could not be resolved or reached.
    """

    results: tuple[LinkResult, ...]
    requests: int
    unfinished: frozenset[str] = frozenset()
    hosts: int = 0
    unreachable_hosts: int = 0

    @property
    def network_down(self) -> bool:
        """Nearly every host failed to resolve or connect: the fault is likely ours."""
        return (
            self.hosts >= NETWORK_DOWN_MIN_HOSTS
            and self.unreachable_hosts >= NETWORK_DOWN_SHARE * self.hosts
        )


class _Slots:
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


class _Budget:
    """The time one URL may still spend on its own requests, lookups and waits."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.left = seconds

    def spend(self, seconds: float) -> None:
        self.left -= seconds

    def out_of_time(self) -> str:
        return f"out of time: no final answer within the per-URL deadline of {self.seconds:g} s"


class LinkChecker:
    """Checks links over one ``httpx.AsyncClient``, at most ``policy.concurrency``
    requests at a time and ``policy.per_host`` to any one host.

    ``resolver``, ``transport``, ``clock``, ``sleep`` and ``jitter`` default to
    the real things; tests and the benchmark replace them. A ``transport``
    given here (``httpx.MockTransport`` in unit tests) replaces the pinned
    one, so hosts are still approved but connections are the transport's.
    """

    def __init__(
        self,
        policy: LinkPolicy,
        *,
        retrying: Retrying = DEFAULT_RETRYING,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.retrying = retrying
        self.resolver = resolver
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter

    async def check(self, urls: Sequence[str], progress: Progress | None = None) -> CheckRun:
        """Check ``urls`` concurrently within the run's deadline; never raises for a URL's sake."""
        pins: dict[str, tuple[str, ...]] = {}
        # The slots hand a freed slot to the same host, so few hosts are in use at a time:
        # room for twice as many keeps the connections of the hosts being checked.
        transport = self.transport or PinnedTransport(
            pins, per_host=self.policy.per_host, max_origins=2 * self.policy.concurrency
        )
        client = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.8"},
            timeout=httpx.Timeout(self.policy.timeout),
            follow_redirects=False,  # followed here, so each hop passes the address policy
            trust_env=False,
        )
        async with client:
            run = _Run(self, client, pins)
            done = dead = 0

            async def one(url: str) -> LinkResult:
                nonlocal done, dead
                result = await run.check_url(url)
                done += 1
                dead += result.state is LinkState.DEAD
                if progress is not None:
                    progress(done, len(urls), dead)
                return result

            tasks = [asyncio.ensure_future(one(url)) for url in urls]
            finished: dict[str, LinkResult] = {}
            if tasks:
                await asyncio.wait(tasks, timeout=self.policy.run_deadline)
            for url, task in zip(urls, tasks, strict=True):
                if task.done():
                    finished[url] = task.result()
                else:
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # let the cancelled ones end
        late = f"not checked: the run's deadline of {self.policy.run_deadline:g} s passed"
        results = [
            finished.get(url) or run.result(url, LinkState.UNKNOWN, error=late) for url in urls
        ]
        unreachable = sum(not reached for reached in run.reached.values())
        network_down = CheckRun((), 0, hosts=len(run.reached), unreachable_hosts=unreachable)
        return CheckRun(
            results=run.doubt_network(results, network_down.network_down),
            requests=run.requests,
            unfinished=frozenset(urls) - frozenset(finished),
            hosts=len(run.reached),
            unreachable_hosts=unreachable,
        )


class _Run:
    """The mutable state of one run: limits, approved addresses, counters."""

    def __init__(
        self, checker: LinkChecker, client: httpx.AsyncClient, pins: dict[str, tuple[str, ...]]
    ) -> None:
        self.checker = checker
        self.policy = checker.policy
        self.client = client
        self.pins = pins
        self.slots = _Slots(self.policy.concurrency, self.policy.per_host)
        self.lookups = asyncio.Semaphore(self.policy.concurrency)
        self.approvals: dict[str, asyncio.Task[_Failure | None]] = {}
        self.head_refused: set[str] = set()
        self.requests = 0
        self.names_resolved = 0
        self.dns_dead: set[str] = set()
        self.unreachable: set[str] = set()  # URLs that ended unable to resolve or connect
        self.reached: dict[str, bool] = {}  # host → answered at least once

    def result(
        self,
        url: str,
        state: LinkState,
        *,
        status: int | None = None,
        final_url: str | None = None,
        error: str | None = None,
    ) -> LinkResult:
        return LinkResult(
            url=url,
            state=state,
            checked_at=self.checker.clock(),
            http_status=status,
            final_url=final_url,
            error=error,
        )

    async def check_url(self, url: str) -> LinkResult:
        budget = _Budget(self.policy.url_deadline)
        try:
            return await self._follow(url, budget)
        except Exception as e:  # one URL's failure is a result, never an exception
            return self.result(url, LinkState.UNKNOWN, error=f"{type(e).__name__}: {e}")

    async def _follow(self, url: str, budget: _Budget) -> LinkResult:
        try:
            current = httpx.URL(url)
        except httpx.InvalidURL as e:
            return self.result(url, LinkState.SKIPPED, error=f"not a valid URL: {e}")
        seen = {_without_fragment(current)}
        status: int | None = None
        for hop in range(MAX_REDIRECTS + 1):
            final = str(current) if hop else None
            if current.scheme not in ("http", "https") or not current.raw_host:
                error = "redirects to a URL that is not http(s)" if hop else "not an http(s) URL"
                return self.result(
                    url, LinkState.SKIPPED, status=status, final_url=final, error=error
                )
            refusal = await self._approve(current, budget)
            if refusal is not None:
                if refusal.dns:
                    self.dns_dead.add(url)
                if refusal.unreachable:
                    self.unreachable.add(url)
                prefix = "after a redirect: " if hop else ""
                return self.result(
                    url, refusal.state, status=status, final_url=final, error=prefix + refusal.error
                )
            answer = await self._fetch(current, budget)
            if isinstance(answer, _Failure):
                if answer.unreachable:
                    self.unreachable.add(url)
                return self.result(url, answer.state, final_url=final, error=answer.error)
            status = answer.status
            if status in _REDIRECTS and answer.location:
                try:
                    target = current.join(answer.location)
                except httpx.InvalidURL:
                    return self.result(
                        url,
                        LinkState.UNKNOWN,
                        status=status,
                        final_url=str(current),
                        error=f"redirects to an invalid URL: {answer.location!r}",
                    )
                key = _without_fragment(target)
                if key in seen:
                    return self.result(
                        url,
                        LinkState.UNKNOWN,
                        status=status,
                        final_url=str(target),
                        error="redirect loop",
                    )
                seen.add(key)
                current = target
                continue
            state, reason = classify_status(status)
            if answer.note:
                reason = f"{reason} ({answer.note})" if reason else answer.note
            return self.result(url, state, status=status, final_url=str(current), error=reason)
        return self.result(
            url,
            LinkState.UNKNOWN,
            status=status,
            final_url=str(current),
            error=f"more than {MAX_REDIRECTS} redirects",
        )

    async def _approve(self, url: httpx.URL, budget: _Budget) -> _Failure | None:
        """Resolve the host once per run and check every address against the policy."""
        host = url.raw_host.decode("ascii")
        task = self.approvals.get(host)
        if task is None:
            port = url.port or (443 if url.scheme == "https" else 80)
            task = asyncio.ensure_future(self._approve_host(host, port))
            self.approvals[host] = task
        if task.done():
            return task.result()
        if budget.left <= 0:
            return _Failure(LinkState.UNKNOWN, budget.out_of_time())
        started = time.monotonic()
        try:  # shielded: other URLs of the host wait for the same lookup
            return await asyncio.wait_for(asyncio.shield(task), budget.left)
        except TimeoutError:
            return _Failure(LinkState.UNKNOWN, budget.out_of_time())
        finally:
            budget.spend(time.monotonic() - started)

    async def _approve_host(self, host: str, port: int) -> _Failure | None:
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses: tuple[str, ...] = (host,)
        else:
            try:
                async with self.lookups, asyncio.timeout(self.policy.timeout):
                    addresses = await self.checker.resolver(host, port)
            except socket.gaierror as e:
                self.reached.setdefault(host, False)
                if e.errno in _NO_SUCH_NAME:
                    return _Failure(
                        LinkState.DEAD,
                        f"{host}: name does not resolve",
                        dns=True,
                        unreachable=True,
                    )
                return _Failure(
                    LinkState.UNKNOWN,
                    f"{host}: name lookup failed: {e.strerror}",
                    unreachable=True,
                )
            except TimeoutError:
                self.reached.setdefault(host, False)
                return _Failure(
                    LinkState.UNKNOWN, f"{host}: name lookup timed out", unreachable=True
                )
            except (OSError, UnicodeError) as e:
                return _Failure(LinkState.UNKNOWN, f"{host}: name lookup failed: {e}")
            self.names_resolved += 1
        if not addresses:
            return _Failure(LinkState.UNKNOWN, f"{host}: name has no address")
        for address in addresses:
            try:
                reason = address_refusal(
                    ipaddress.ip_address(address), allow_private=self.policy.allow_private
                )
            except ValueError:
                reason = "not an IP address"
            if reason is not None:
                what = f"{host} is" if literal is not None else f"{host} resolves to {address},"
                return _Failure(LinkState.SKIPPED, f"{what} {reason}")
        self.pins[host] = addresses
        return None

    async def _fetch(self, url: httpx.URL, budget: _Budget) -> _Answer | _Failure:
        """One hop, retried while the outcome is transient and attempts and time remain."""
        retrying = self.checker.retrying
        retry = 0
        while True:
            outcome = await self._exchange(url, budget)
            retry += 1
            if isinstance(outcome, _Failure):
                if not outcome.retry:
                    return outcome
                wait = retrying.wait_before(retry, None, self.checker.jitter())
            elif is_transient(outcome.status):
                after = parse_retry_after(outcome.retry_after, self.checker.clock())
                wait = retrying.wait_before(retry, after, self.checker.jitter())
            else:
                return outcome
            if wait is None:
                return outcome
            if wait >= budget.left:  # the wait alone would pass the deadline: stop now
                note = f"not retried: a {wait:g} s wait would pass the per-URL deadline"
                if isinstance(outcome, _Failure):
                    return replace(outcome, error=f"{outcome.error}; {note}", retry=False)
                return replace(outcome, note=f"{note} of {budget.seconds:g} s")
            await self.checker.sleep(wait)
            budget.spend(wait)

    async def _exchange(self, url: httpx.URL, budget: _Budget) -> _Answer | _Failure:
        """HEAD, and GET (streamed, body unread) when HEAD is refused or doubtful."""
        host = url.raw_host.decode("ascii")
        answer = await self._send(url, host, budget, head=True)
        if isinstance(answer, _Failure) or answer.method == "GET":
            return answer
        if answer.status not in _HEAD_REFUSED | _HEAD_DOUBTFUL:
            return answer
        if answer.status in _HEAD_REFUSED:
            self.head_refused.add(host)
        return await self._send(url, host, budget, head=False)

    async def _send(
        self, url: httpx.URL, host: str, budget: _Budget, *, head: bool
    ) -> _Answer | _Failure:
        if budget.left <= 0:
            return _Failure(LinkState.UNKNOWN, budget.out_of_time())
        # Queueing for a slot is not the URL's own time: the budget runs from the grant.
        await self.slots.acquire(host)
        try:
            # Decided only now: an earlier request to the host may have found HEAD refused.
            method = "HEAD" if head and host not in self.head_refused else "GET"
            self.requests += 1
            limit = min(self.policy.timeout, budget.left)
            started = time.monotonic()
            try:
                async with asyncio.timeout(limit):  # total, per request
                    response = await self.client.send(
                        self.client.build_request(method, url), stream=True
                    )
                    if method == "HEAD":  # no body: reading it lets the connection be reused
                        await response.aread()
                    await response.aclose()  # a GET's body is never read
            except (TimeoutError, httpx.TimeoutException) as e:
                budget.spend(time.monotonic() - started)
                if budget.left <= 0:
                    return _Failure(LinkState.UNKNOWN, budget.out_of_time())
                self.reached.setdefault(host, not isinstance(e, httpx.ConnectTimeout))
                return _Failure(
                    LinkState.UNKNOWN,
                    f"timed out after {limit:g} s",
                    retry=True,
                    unreachable=isinstance(e, httpx.ConnectTimeout),
                )
            except httpx.TransportError as e:
                failure = _transport_failure(e)
                self.reached.setdefault(host, not failure.unreachable)
                return failure
            except httpx.InvalidURL as e:  # httpx reads a Location even when not following it
                return _Failure(LinkState.UNKNOWN, f"redirects to an unusable URL: {e}")
            budget.spend(time.monotonic() - started)
        finally:
            self.slots.release(host)
        self.reached[host] = True
        return _Answer(
            method=method,
            status=response.status_code,
            location=response.headers.get("location"),
            retry_after=response.headers.get("retry-after"),
        )

    def doubt_network(
        self, results: Iterable[LinkResult], network_down: bool
    ) -> tuple[LinkResult, ...]:
        """Failures that may be ours, not the sites': never dead, and marked as such.

        A name that does not resolve means dead only if some other name
        resolved in this run: a resolver that is down or misconfigured answers
        "no such name" for every host. When nearly every host failed to
        resolve or connect (see CheckRun.network_down), those failures are
        marked with NETWORK_DOWN, so that they are trusted for minutes only.
        """
        doubted: list[LinkResult] = []
        for r in results:
            if network_down and r.url in self.unreachable:
                failed, total = self._unreachable_share()
                r = replace(
                    r,
                    state=LinkState.UNKNOWN,
                    error=f"{r.error} ({NETWORK_DOWN}: {failed} of {total} hosts could not "
                    "be resolved or reached)",
                )
            elif not self.names_resolved and r.url in self.dns_dead:
                r = replace(
                    r,
                    state=LinkState.UNKNOWN,
                    error=f"{r.error} (and no other host name resolved: is DNS working?)",
                )
            doubted.append(r)
        return tuple(doubted)

    def _unreachable_share(self) -> tuple[int, int]:
        return sum(not v for v in self.reached.values()), len(self.reached)


def _without_fragment(url: httpx.URL) -> str:
    return str(url).partition("#")[0]


def _transport_failure(e: httpx.TransportError) -> _Failure:
    detail = ""
    cause: BaseException | None = e
    while cause is not None:  # the first words in the chain, or a TLS error wherever it is
        if isinstance(cause, ssl.SSLError):
            return _Failure(LinkState.UNKNOWN, f"TLS error: {cause}")
        detail = detail or str(cause)
        cause = cause.__cause__ or cause.__context__
    detail = detail or type(e).__name__
    if isinstance(e, httpx.ConnectError):
        return _Failure(
            LinkState.UNKNOWN, f"cannot connect: {detail}", retry=True, unreachable=True
        )
    if isinstance(e, httpx.NetworkError | httpx.RemoteProtocolError):
        return _Failure(LinkState.UNKNOWN, f"connection failed: {detail}", retry=True)
    return _Failure(LinkState.UNKNOWN, f"request failed: {detail}")


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
    fresh: bool = False,
    progress: Progress | None = None,
    checker: LinkChecker | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> LinkReport:
    """Classify every URL, re-checking only those whose stored result is stale.

    Results still inside their class's time to live are taken from ``state``
    (unless ``fresh``); the others are checked over the network, added to
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
        if not fresh
        and is_fresh(result, policy, now)
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
