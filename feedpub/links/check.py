"""Link liveness: classify every article URL, accurately, politely and fast.

    check_links(urls, policy, state)    cached results → network → history → state file
      └── LinkChecker.check(urls)       async; one httpx.AsyncClient; global and per-host limits
            └── one URL                 approve host → HEAD (GET if refused) → retries
                                        → redirects, hop by hop → a class

Classes, not raw codes (see LinkState): a site that refuses robots (401, 403,
429) says nothing about the story, and a timeout or a 5xx is transient; only
404, 410 and a name that does not exist mean dead. One URL's failure is a
result, never an exception. Every host, redirect targets included, passes the
address policy in safenet.py before a request is sent to it.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from .. import __version__
from ..config import LinkPolicy
from ..model import LinkResult, LinkState
from ..store import State
from ..store.links import load_links, save_links
from .history import is_fresh, record_check
from .safenet import PinnedTransport, Resolver, address_refusal, system_resolver

USER_AGENT = f"feedpub/{__version__} (+https://pypi.org/project/feedpub/)"
MAX_REDIRECTS = 10

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEAD_REFUSED = frozenset({405, 501})  # HEAD not supported: use GET, for the rest of the run too
_HEAD_DOUBTFUL = frozenset({403, 404})  # some servers answer HEAD alone this way: ask with GET
_DEAD = frozenset({404, 410})
_BLOCKED = frozenset({401, 403, 407, 429, 451})
_NO_SUCH_NAME = frozenset(
    {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
)  # getaddrinfo: the name does not exist, or has no address; not a temporary failure

Progress = Callable[[int, int], None]  # (URLs done, URLs to check)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Retrying:
    """How often and how patiently a request is retried after a transient failure.

    Connect errors, timeouts, 5xx (but 501) and 429 are retried. A
    ``Retry-After`` (RFC 9110 § 10.2.3) is honoured up to ``retry_after_cap``
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


@dataclass(frozen=True, slots=True)
class _Failure:
    """A hop that ended without a usable response."""

    state: LinkState
    error: str
    retry: bool = False
    dns: bool = False  # the host name does not exist


@dataclass(frozen=True, slots=True)
class CheckRun:
    """One network run: a result per URL, in the order asked, and the requests sent."""

    results: tuple[LinkResult, ...]
    requests: int


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
        retrying: Retrying = Retrying(),
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
        """Check ``urls`` concurrently; never raises for a URL's sake."""
        pins: dict[str, tuple[str, ...]] = {}
        transport = self.transport or PinnedTransport(pins, max_connections=self.policy.concurrency)
        client = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.8"},
            timeout=httpx.Timeout(self.policy.timeout),
            follow_redirects=False,  # followed here, so each hop passes the address policy
            trust_env=False,
        )
        async with client:
            run = _Run(self, client, pins)
            done = 0

            async def one(url: str) -> LinkResult:
                nonlocal done
                result = await run.check_url(url)
                done += 1
                if progress is not None:
                    progress(done, len(urls))
                return result

            results = await asyncio.gather(*(one(url) for url in urls))
        return CheckRun(results=run.doubt_dns(results), requests=run.requests)


class _Run:
    """The mutable state of one run: limits, approved addresses, counters."""

    def __init__(
        self, checker: LinkChecker, client: httpx.AsyncClient, pins: dict[str, tuple[str, ...]]
    ) -> None:
        self.checker = checker
        self.policy = checker.policy
        self.client = client
        self.pins = pins
        self.slots = asyncio.Semaphore(self.policy.concurrency)
        self.host_slots: dict[str, asyncio.Semaphore] = {}
        self.approvals: dict[str, asyncio.Task[_Failure | None]] = {}
        self.head_refused: set[str] = set()
        self.requests = 0
        self.names_resolved = 0
        self.dns_dead: set[str] = set()

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
        try:
            return await self._follow(url)
        except Exception as e:  # one URL's failure is a result, never an exception
            return self.result(url, LinkState.UNKNOWN, error=f"{type(e).__name__}: {e}")

    async def _follow(self, url: str) -> LinkResult:
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
            refusal = await self._approve(current)
            if refusal is not None:
                if refusal.dns:
                    self.dns_dead.add(url)
                prefix = "after a redirect: " if hop else ""
                return self.result(
                    url, refusal.state, status=status, final_url=final, error=prefix + refusal.error
                )
            answer = await self._fetch(current)
            if isinstance(answer, _Failure):
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
            return self.result(url, state, status=status, final_url=str(current), error=reason)
        return self.result(
            url,
            LinkState.UNKNOWN,
            status=status,
            final_url=str(current),
            error=f"more than {MAX_REDIRECTS} redirects",
        )

    async def _approve(self, url: httpx.URL) -> _Failure | None:
        """Resolve the host once per run and check every address against the policy."""
        host = url.raw_host.decode("ascii")
        task = self.approvals.get(host)
        if task is None:
            port = url.port or (443 if url.scheme == "https" else 80)
            task = asyncio.ensure_future(self._approve_host(host, port))
            self.approvals[host] = task
        return await task

    async def _approve_host(self, host: str, port: int) -> _Failure | None:
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses: tuple[str, ...] = (host,)
        else:
            try:
                async with self.slots, asyncio.timeout(self.policy.timeout):
                    addresses = await self.checker.resolver(host, port)
            except socket.gaierror as e:
                if e.errno in _NO_SUCH_NAME:
                    return _Failure(LinkState.DEAD, f"{host}: name does not resolve", dns=True)
                return _Failure(LinkState.UNKNOWN, f"{host}: name lookup failed: {e.strerror}")
            except TimeoutError:
                return _Failure(LinkState.UNKNOWN, f"{host}: name lookup timed out")
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

    async def _fetch(self, url: httpx.URL) -> _Answer | _Failure:
        """One hop, retried while the outcome is transient and attempts remain."""
        retrying = self.checker.retrying
        attempt = 1
        while True:
            outcome = await self._exchange(url)
            if attempt >= retrying.attempts:
                return outcome
            if isinstance(outcome, _Failure):
                if not outcome.retry:
                    return outcome
                delay = retrying.delay(attempt, self.checker.jitter())
            elif outcome.status == 429 or (outcome.status >= 500 and outcome.status != 501):
                after = parse_retry_after(outcome.retry_after, self.checker.clock())
                if after is not None and after > retrying.retry_after_cap:
                    return outcome
                delay = (
                    after if after is not None else retrying.delay(attempt, self.checker.jitter())
                )
            else:
                return outcome
            await self.checker.sleep(delay)
            attempt += 1

    async def _exchange(self, url: httpx.URL) -> _Answer | _Failure:
        """HEAD, and GET (streamed, body unread) when HEAD is refused or doubtful."""
        host = url.raw_host.decode("ascii")
        answer = await self._send(url, host, head=True)
        if isinstance(answer, _Failure) or answer.method == "GET":
            return answer
        if answer.status not in _HEAD_REFUSED | _HEAD_DOUBTFUL:
            return answer
        if answer.status in _HEAD_REFUSED:
            self.head_refused.add(host)
        return await self._send(url, host, head=False)

    async def _send(self, url: httpx.URL, host: str, *, head: bool) -> _Answer | _Failure:
        host_slot = self.host_slots.setdefault(host, asyncio.Semaphore(self.policy.per_host))
        # The host's slot first: requests waiting for a busy host hold no global slot.
        async with host_slot, self.slots:
            # Decided only now: an earlier request to the host may have found HEAD refused.
            method = "HEAD" if head and host not in self.head_refused else "GET"
            self.requests += 1
            try:
                async with asyncio.timeout(self.policy.timeout):  # total, per request
                    response = await self.client.send(
                        self.client.build_request(method, url), stream=True
                    )
                    if method == "HEAD":  # no body: reading it lets the connection be reused
                        await response.aread()
                    await response.aclose()  # a GET's body is never read
            except (TimeoutError, httpx.TimeoutException):
                return _Failure(
                    LinkState.UNKNOWN, f"timed out after {self.policy.timeout:g} s", retry=True
                )
            except httpx.TransportError as e:
                return _transport_failure(e)
            except httpx.InvalidURL as e:  # httpx reads a Location even when not following it
                return _Failure(LinkState.UNKNOWN, f"redirects to an unusable URL: {e}")
        return _Answer(
            method=method,
            status=response.status_code,
            location=response.headers.get("location"),
            retry_after=response.headers.get("retry-after"),
        )

    def doubt_dns(self, results: Iterable[LinkResult]) -> tuple[LinkResult, ...]:
        """A name that does not resolve means dead only if some other name resolved in this run.

        A resolver that is down or misconfigured answers "no such name" for
        every host; that must not mark every story dead.
        """
        if self.names_resolved:
            return tuple(results)
        return tuple(
            LinkResult(
                url=r.url,
                state=LinkState.UNKNOWN,
                checked_at=r.checked_at,
                error=f"{r.error} (and no other host name resolved: is DNS working?)",
            )
            if r.url in self.dns_dead
            else r
            for r in results
        )


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
        return _Failure(LinkState.UNKNOWN, f"cannot connect: {detail}", retry=True)
    if isinstance(e, httpx.NetworkError | httpx.RemoteProtocolError):
        return _Failure(LinkState.UNKNOWN, f"connection failed: {detail}", retry=True)
    return _Failure(LinkState.UNKNOWN, f"request failed: {detail}")


@dataclass(frozen=True, slots=True)
class LinkReport:
    """The outcome of ``check_links``: one result per URL, sorted by URL, and what it cost."""

    results: tuple[LinkResult, ...]
    requests: int
    cache_hits: int
    confirmed_dead: int
    seconds: float

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
            "seconds": round(self.seconds, 3),
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "links": [
                {
                    "url": r.url,
                    "state": r.state.value,
                    "http_status": r.http_status,
                    "final_url": r.final_url,
                    "error": r.error,
                    "checked_at": r.checked_at.isoformat(),
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
    their history and stored. Runs its own event loop: call it from
    synchronous code (async code can await ``LinkChecker.check``).

    Raises:
        ConfigError: the state file cannot be read or written.
    """
    started = time.perf_counter()
    unique = sorted(set(urls))
    previous = load_links(state, unique) if state is not None else {}
    now = clock()
    cached = {
        url: result
        for url, result in previous.items()
        if not fresh and is_fresh(result, policy, now)
    }
    due = [url for url in unique if url not in cached]
    checker = checker or LinkChecker(policy, clock=clock)
    run = asyncio.run(checker.check(due, progress)) if due else CheckRun((), 0)
    checked = [record_check(previous.get(r.url), r) for r in run.results]
    if state is not None:
        save_links(state, checked)
    results = tuple(sorted([*cached.values(), *checked], key=lambda r: r.url))
    return LinkReport(
        results=results,
        requests=run.requests,
        cache_hits=len(cached),
        confirmed_dead=sum(r.confirmed_dead(policy.confirm_after) for r in results),
        seconds=time.perf_counter() - started,
    )
