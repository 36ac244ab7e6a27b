"""Link checks against a real HTTP server on 127.0.0.1 (tests/linkserver.py).

No mock of httpx here except ``httpx.MockTransport`` in a few small units that
need a public address, which the tests must never really connect to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import operator
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import feedparser
import httpcore
import httpx
import pytest

from feedpub.cli import main
from feedpub.config import LinkPolicy, OnDead, parse_config
from feedpub.errors import ConfigError
from feedpub.links.check import (
    USER_AGENT,
    LinkChecker,
    Retrying,
    parse_retry_after,
)
from feedpub.links.history import record_check
from feedpub.links.pace import HostSlots as _Slots
from feedpub.links.run import LinkReport, check_links
from feedpub.links.safenet import PinnedBackend, address_refusal
from feedpub.model import Article, LinkResult, LinkState
from feedpub.selection import DeadLinkStory, apply_link_policy
from feedpub.store import State
from feedpub.store.links import load_links
from tests.conftest import article_text
from tests.linkserver import LinkServer, fake_resolver

FAST = Retrying(attempts=3, backoff=0.01, max_backoff=0.05)
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def checker(policy: LinkPolicy, **kwargs: object) -> LinkChecker:
    """A checker with fast retries and the fake resolver, unless told otherwise."""
    options: dict[str, object] = {"retrying": FAST, "resolver": fake_resolver()}
    options.update(kwargs)
    return LinkChecker(policy, **options)  # type: ignore[arg-type]


# --- every case a link checker meets, against one server, in one run -----------------

CASES = {
    "/ok": (LinkState.ALIVE, 200, "/ok"),
    "/moved": (LinkState.ALIVE, 200, "/ok"),
    "/loop/a": (LinkState.UNKNOWN, 302, "/loop/a"),
    "/missing": (LinkState.DEAD, 404, "/missing"),
    "/gone": (LinkState.DEAD, 410, "/gone"),
    "/flaky": (LinkState.ALIVE, 200, "/flaky"),
    "/broken": (LinkState.UNKNOWN, 500, "/broken"),
    "/busy": (LinkState.ALIVE, 200, "/busy"),
    "/forbidden": (LinkState.BLOCKED, 403, "/forbidden"),
    "/no-head": (LinkState.ALIVE, 200, "/no-head"),
    "/slow": (LinkState.UNKNOWN, None, None),
    "/reset": (LinkState.UNKNOWN, None, None),
}


class Classified:
    def __init__(self, server: LinkServer, report: LinkReport, sleeps: list[float]) -> None:
        self.server = server
        self.by_url = {r.url: r for r in report.results}
        self.report = report
        self.sleeps = sleeps

    def __getitem__(self, path: str) -> LinkResult:
        return self.by_url[case_url(self.server, path)]


def case_url(server: LinkServer, path: str) -> str:
    """Each case on a host of its own: per-host limits and HEAD refusals stay apart."""
    return server.url(path, host=f"case{list(CASES).index(path)}.test")


@pytest.fixture(scope="module")
def classified() -> Iterator[Classified]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:  # really waits, and remembers for how long
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    policy = LinkPolicy(timeout=0.5, allow_private=True)
    with LinkServer() as server:
        urls = [case_url(server, path) for path in CASES]
        urls.append(server.url("/ok", host="missing.test"))
        urls.append(server.url("/to?url=ftp://files.test/story.txt", host="news.test"))
        urls.append(server.url("/to?url=mailto:desk@news.test", host="news.test"))
        report = check_links(urls, policy, checker=checker(policy, sleep=sleep))
        yield Classified(server, report, sleeps)


@pytest.mark.parametrize("path", list(CASES))
def test_each_response_gets_its_class(classified: Classified, path: str) -> None:
    state, status, final = CASES[path]
    result = classified[path]
    assert (result.state, result.http_status) == (state, status), result.error
    if final is None:
        assert result.final_url is None
    else:
        assert result.final_url == case_url(classified.server, path).replace(path, final)
    assert (result.error is None) == (state is LinkState.ALIVE)


def test_errors_say_what_happened(classified: Classified) -> None:
    assert classified["/loop/a"].error == "redirect loop"
    assert classified["/missing"].error == "HTTP 404 Not Found"
    assert classified["/forbidden"].error == "HTTP 403 Forbidden"
    assert classified["/broken"].error == "HTTP 500 Internal Server Error"
    assert classified["/slow"].error == "timed out after 0.5 s"
    assert classified["/reset"].error == "connection failed: [Errno 104] Connection reset by peer"


def test_transient_failures_are_retried_and_the_rest_are_not(classified: Classified) -> None:
    hits = classified.server.hits
    assert hits["HEAD", "/flaky"] == 2  # 500, then 200
    assert hits["HEAD", "/broken"] == 3  # every attempt
    assert hits["HEAD", "/slow"] == 3
    assert hits["HEAD", "/reset"] == 3
    assert hits["HEAD", "/missing"] == hits["GET", "/missing"] == 1  # HEAD 404 is asked again
    assert hits["HEAD", "/forbidden"] == hits["GET", "/forbidden"] == 1
    assert hits["HEAD", "/no-head"] == hits["GET", "/no-head"] == 1
    assert hits["HEAD", "/gone"] == 1 and hits["GET", "/gone"] == 0
    assert hits["HEAD", "/loop/a"] == hits["HEAD", "/loop/b"] == 1


def test_retry_after_is_waited_for(classified: Classified) -> None:
    assert classified.server.hits["HEAD", "/busy"] == 2
    assert 1.0 in classified.sleeps
    assert all(s <= FAST.max_backoff for s in classified.sleeps if s != 1.0)


def test_a_name_that_does_not_resolve_is_dead(classified: Classified) -> None:
    [result] = [r for r in classified.report.results if "missing.test" in r.url]
    assert result.state is LinkState.DEAD
    assert result.error == "missing.test: name does not resolve"


def test_a_redirect_to_another_scheme_is_not_followed(classified: Classified) -> None:
    [ftp] = [r for r in classified.report.results if "ftp" in r.url]
    assert (ftp.state, ftp.http_status) == (LinkState.SKIPPED, 302)
    assert ftp.final_url == "ftp://files.test/story.txt"
    assert ftp.error == "redirects to a URL that is not http(s)"
    [mailto] = [r for r in classified.report.results if "mailto" in r.url]
    assert mailto.state is LinkState.UNKNOWN  # httpx cannot even parse it as a redirect
    assert (mailto.error or "").startswith("redirects to an unusable URL")


def test_requests_name_feedpub_and_are_counted(classified: Classified) -> None:
    assert classified.server.user_agents == {USER_AGENT}
    assert USER_AGENT.startswith("feedpub/0.") and "pypi.org/project/feedpub" in USER_AGENT
    assert classified.report.requests == classified.server.requests


# --- cache and time to live -----------------------------------------------------------


def test_a_second_run_inside_the_ttls_sends_no_request(
    link_server: LinkServer, tmp_path: Path
) -> None:
    policy = LinkPolicy(allow_private=True, per_host=8)
    paths = ["/ok", "/moved", "/missing", "/forbidden", "/teapot"]
    urls = [link_server.url(p) for p in paths]
    with State.open(tmp_path / "state.sqlite") as state:
        first = check_links(urls, policy, state, checker=checker(policy))
        sent = link_server.requests
        assert first.requests == sent > 0 and first.cache_hits == 0
        second = check_links(urls, policy, state, checker=checker(policy))
        assert link_server.requests == sent
        assert (second.requests, second.cache_hits) == (0, 5)
        assert [r.state for r in second.results] == [r.state for r in first.results]
        fresh = check_links(urls, policy, state, recheck=True, checker=checker(policy))
        assert fresh.cache_hits == 0 and link_server.requests == 2 * sent


def test_only_stale_results_are_checked_again(link_server: LinkServer, tmp_path: Path) -> None:
    """Alive lasts 24 h, dead 6 h, blocked 24 h, unknown 1 h (the defaults)."""
    policy = LinkPolicy(allow_private=True)
    urls = {p: link_server.url(p) for p in ("/ok", "/missing", "/forbidden", "/teapot")}
    with State.open(tmp_path / "state.sqlite") as state:
        for hours, expected_rechecks in ((0, 4), (2, 1), (7, 2), (25, 4)):
            clock = partial(operator.add, T0, timedelta(hours=hours))
            report = check_links(
                urls.values(), policy, state, clock=clock, checker=checker(policy, clock=clock)
            )
            assert len(report.results) - report.cache_hits == expected_rechecks, hours
    assert link_server.by_path["/teapot"] == 4  # unknown: every time
    assert link_server.by_path["/ok"] == 2  # at 0 h and 25 h


# --- politeness -------------------------------------------------------------------------


def test_the_per_host_limit_holds(link_server: LinkServer) -> None:
    policy = LinkPolicy(allow_private=True, per_host=4, concurrency=32)
    urls = [
        link_server.url(f"/delay?ms=50&n={i}", host=host)
        for host in ("a.test", "b.test")
        for i in range(16)
    ]
    report = check_links(urls, policy, checker=checker(policy))
    assert report.counts()["alive"] == 32
    assert 1 < link_server.max_in_flight["a.test"] <= 4
    assert 1 < link_server.max_in_flight["b.test"] <= 4
    assert link_server.max_in_flight["*"] <= 8


def test_the_global_limit_holds(link_server: LinkServer) -> None:
    policy = LinkPolicy(allow_private=True, per_host=10, concurrency=3)
    urls = [link_server.url(f"/delay?ms=30&n={i}", host="a.test") for i in range(12)]
    check_links(urls, policy, checker=checker(policy))
    assert link_server.max_in_flight["*"] <= 3


def test_a_host_that_refuses_head_gets_get_from_then_on(link_server: LinkServer) -> None:
    policy = LinkPolicy(allow_private=True, per_host=1)
    urls = [link_server.url(f"/no-head?n={i}") for i in range(3)]
    report = check_links(urls, policy, checker=checker(policy))
    assert report.counts()["alive"] == 3
    assert link_server.hits["HEAD", "/no-head"] == 1
    assert link_server.hits["GET", "/no-head"] == 3


def test_connections_are_kept_alive_between_head_requests(link_server: LinkServer) -> None:
    policy = LinkPolicy(allow_private=True, per_host=1)
    urls = [link_server.url(f"/ok?n={i}") for i in range(10)]
    assert check_links(urls, policy, checker=checker(policy)).counts()["alive"] == 10
    assert link_server.connections == 1


def test_a_long_retry_after_is_not_waited_for() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3600"})

    policy = LinkPolicy()
    report = check_links(
        ["https://public.test/story"],
        policy,
        checker=LinkChecker(
            policy,
            resolver=_public_resolver,
            transport=httpx.MockTransport(busy),
            sleep=sleep,
        ),
    )
    [result] = report.results
    assert (result.state, result.http_status, report.requests) == (LinkState.BLOCKED, 429, 1)
    assert sleeps == []


def test_progress_is_reported_for_every_url(link_server: LinkServer) -> None:
    policy = LinkPolicy(allow_private=True)
    seen: list[tuple[int, int, int]] = []
    urls = [link_server.url(f"/ok?n={i}") for i in range(4)] + [link_server.url("/missing")]
    check_links(urls, policy, checker=checker(policy), progress=lambda *counts: seen.append(counts))
    assert [(done, total) for done, total, _ in seen] == [(i, 5) for i in range(1, 6)]
    dead = [dead for _, _, dead in seen]
    assert dead == sorted(dead) and dead[-1] == 1  # the dead ones so far


# --- safety ----------------------------------------------------------------------------


def test_without_allow_private_local_links_are_skipped_unrequested(
    link_server: LinkServer,
) -> None:
    policy = LinkPolicy()
    urls = [
        link_server.url("/ok"),
        link_server.url("/ok", host="news.test"),  # a name that resolves to 127.0.0.1
        f"http://[::1]:{link_server.port}/ok",
        f"http://0.0.0.0:{link_server.port}/ok",
        f"http://[::127.0.0.1]:{link_server.port}/ok",
        f"http://[::ffff:0:127.0.0.1]:{link_server.port}/ok",
    ]
    report = check_links(urls, policy, checker=checker(policy))
    assert [r.state for r in report.results] == [LinkState.SKIPPED] * 6
    by_url = {r.url: r.error for r in report.results}
    assert by_url[urls[0]] == "127.0.0.1 is a loopback address"
    assert by_url[urls[1]] == "news.test resolves to 127.0.0.1, a loopback address"
    assert by_url[urls[3]] == "0.0.0.0 is an unspecified address"
    assert by_url[urls[4]] == "::127.0.0.1 is a loopback address"
    assert by_url[urls[5]] == "::ffff:0:127.0.0.1 is a loopback address"
    assert report.requests == 0 and link_server.requests == 0


def test_only_http_and_https_are_checked() -> None:
    report = check_links(["ftp://files.test/a", "file:///etc/passwd", "not a url"], LinkPolicy())
    assert [r.state for r in report.results] == [LinkState.SKIPPED] * 3
    assert report.requests == 0


async def _public_resolver(host: str, port: int) -> tuple[str, ...]:
    """Public-looking names for MockTransport units: never connected to."""
    return {
        "public.test": ("93.184.215.14",),
        "metadata.test": ("169.254.169.254",),
        "intranet.test": ("93.184.215.14", "10.1.2.3"),
    }[host]


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("http://10.1.2.3/admin", "10.1.2.3 is a private address"),
        ("http://metadata.test/latest/", "169.254.169.254, a cloud metadata address"),
        ("http://intranet.test/", "intranet.test resolves to 10.1.2.3, a private address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused(target: str, error: str) -> None:
    requested: list[str] = []

    def site(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(302, headers={"Location": target})

    for allow_private in (False, True):
        policy = LinkPolicy(allow_private=allow_private)
        lc = LinkChecker(policy, resolver=_public_resolver, transport=httpx.MockTransport(site))
        [result] = check_links(["https://public.test/story"], policy, checker=lc).results
        if allow_private and "metadata" not in error:
            assert result.state is not LinkState.SKIPPED
            continue
        assert result.state is LinkState.SKIPPED
        assert result.error is not None and result.error.endswith(error)
        assert result.final_url == target
    assert requested[0] == "https://public.test/story"


def test_each_host_is_resolved_once_and_reached_at_the_approved_address(
    link_server: LinkServer,
) -> None:
    """``*.test`` names exist only in the fake resolver: reaching the server proves that the
    connection went to the address the policy approved, not to a second lookup."""
    calls: list[str] = []
    policy = LinkPolicy(allow_private=True)
    urls = [link_server.url(f"/ok?n={i}", host="pinned.test") for i in range(5)]
    report = check_links(urls, policy, checker=checker(policy, resolver=fake_resolver(calls)))
    assert report.counts()["alive"] == 5
    assert calls == ["pinned.test"]
    assert link_server.by_host["pinned.test"] == 5


def test_the_transport_never_connects_to_a_host_it_was_not_told_about() -> None:
    backend = PinnedBackend({"known.test": ("127.0.0.1",)})
    with pytest.raises(httpcore.ConnectError, match="not checked against the address policy"):
        asyncio.run(backend.connect_tcp("example.org", 80))


def test_dead_by_dns_needs_a_working_resolver() -> None:
    """If no name at all resolved in a run, "no such name" is the resolver's fault."""
    policy = LinkPolicy()
    [result] = check_links(["https://missing.test/"], policy, checker=checker(policy)).results
    assert result.state is LinkState.UNKNOWN
    assert result.error == (
        "missing.test: name does not resolve (and no other host name resolved: is DNS working?)"
    )


@pytest.mark.parametrize(
    ("address", "private", "public"),
    [
        ("93.184.215.14", None, None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None, None),
        ("127.0.0.1", "a loopback address", None),
        ("::1", "a loopback address", None),
        ("10.0.0.1", "a private address", None),
        ("172.16.5.4", "a private address", None),
        ("192.168.1.1", "a private address", None),
        ("fc00::1", "a private address", None),
        ("169.254.1.1", "a link-local address", None),
        ("fe80::1", "a link-local address", None),
        ("100.64.0.1", "a reserved address", None),
        ("240.0.0.1", "a private address", None),
        ("::ffff:127.0.0.1", "a loopback address", None),
        ("64:ff9b::a00:1", "a private address", None),
        ("2002:a00:1::", "a private address", None),
        ("169.254.169.254", "a cloud metadata address", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address", "a cloud metadata address"),
        ("0.0.0.0", "an unspecified address", "an unspecified address"),
        ("224.0.0.1", "a multicast address", "a multicast address"),
        # IPv6 forms that carry an IPv4 address are judged by it
        ("::127.0.0.1", "a loopback address", None),  # IPv4-compatible
        ("::ffff:0:127.0.0.1", "a loopback address", None),  # IPv4-translated
        ("::ffff:0:10.0.0.1", "a private address", None),
        ("2002:7f00:1::", "a loopback address", None),  # 6to4 of 127.0.0.1
        ("64:ff9b::127.0.0.1", "a loopback address", None),  # NAT64
        ("64:ff9b:1::c0a8:101", "a private address", None),  # NAT64, local-use prefix
        ("::8.8.8.8", None, None),
        ("::ffff:8.8.8.8", None, None),
        ("fec0::1", "a site-local address", None),
        # the metadata service, however it is spelled, even with allow_private
        ("100.100.100.200", "a cloud metadata address", "a cloud metadata address"),
        ("::169.254.169.254", "a cloud metadata address", "a cloud metadata address"),
        ("::ffff:169.254.169.254", "a cloud metadata address", "a cloud metadata address"),
        ("::ffff:0:169.254.169.254", "a cloud metadata address", "a cloud metadata address"),
        ("2002:a9fe:a9fe::", "a cloud metadata address", "a cloud metadata address"),
        ("64:ff9b::a9fe:a9fe", "a cloud metadata address", "a cloud metadata address"),
        ("64:ff9b::100.100.100.200", "a cloud metadata address", "a cloud metadata address"),
        ("::ffff:100.100.100.200", "a cloud metadata address", "a cloud metadata address"),
        ("ff02::1", "a multicast address", "a multicast address"),
    ],
)
def test_address_policy(address: str, private: str | None, public: str | None) -> None:
    ip = ipaddress.ip_address(address)
    assert address_refusal(ip, allow_private=False) == private
    assert address_refusal(ip, allow_private=True) == public


# --- small units ---------------------------------------------------------------------


def test_retry_after_takes_seconds_or_a_date() -> None:
    assert parse_retry_after("1", T0) == 1.0
    assert parse_retry_after(" 120 ", T0) == 120.0
    assert parse_retry_after("Sat, 01 Jun 2024 12:00:30 GMT", T0) == 30.0
    assert parse_retry_after("Sat, 01 Jun 2024 11:00:00 GMT", T0) == 0.0
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after(None, T0) is None


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    r = Retrying(backoff=0.5, max_backoff=8.0)
    assert [r.delay(n, 0.0) for n in (1, 2, 3, 10)] == [0.25, 0.5, 1.0, 4.0]
    assert [r.delay(n, 0.999) for n in (1, 10)] == pytest.approx([0.5, 8.0], abs=0.01)


def _check(state: LinkState, hours: float, status: int | None = None) -> LinkResult:
    return LinkResult(
        url="https://a.test/", state=state, checked_at=T0 + timedelta(hours=hours),
        http_status=status,
    )  # fmt: skip


def test_a_link_is_confirmed_dead_after_two_dead_checks_far_enough_apart() -> None:
    hour = timedelta(hours=1)
    first = record_check(None, _check(LinkState.DEAD, 0, 404))
    assert (first.dead_checks, first.dead_since, first.first_checked) == (1, T0, T0)
    assert not first.confirmed_dead(timedelta(0))
    soon = record_check(first, _check(LinkState.DEAD, 0.5, 404))
    assert soon.dead_checks == 2 and not soon.confirmed_dead(hour)
    assert soon.confirmed_dead(timedelta(0))
    later = record_check(soon, _check(LinkState.DEAD, 1, 410))
    assert later.confirmed_dead(hour) and later.consecutive_failures == 3
    assert later.first_checked == T0 and later.dead_since == T0


def test_any_other_answer_starts_the_confirmation_over() -> None:
    dead = record_check(None, _check(LinkState.DEAD, 0, 404))
    blip = record_check(dead, _check(LinkState.UNKNOWN, 1))
    assert (blip.dead_checks, blip.dead_since, blip.consecutive_failures) == (0, None, 2)
    again = record_check(blip, _check(LinkState.DEAD, 2, 404))
    assert again.dead_since == T0 + timedelta(hours=2) and not again.confirmed_dead(timedelta(0))
    alive = record_check(again, _check(LinkState.ALIVE, 3, 200))
    assert (alive.consecutive_failures, alive.dead_checks, alive.first_checked) == (0, 0, T0)


def _article(url: str) -> Article:
    return Article(key=url, path=url, title=url, url=url, published=T0)


def test_the_policy_drops_flags_or_keeps_only_confirmed_dead_links() -> None:
    confirmed = record_check(
        record_check(None, _check(LinkState.DEAD, 0, 404)), _check(LinkState.DEAD, 2, 404)
    )
    links = {
        "https://dead/": replace(confirmed, url="https://dead/"),
        "https://once/": replace(
            _check(LinkState.DEAD, 0, 404), url="https://once/", dead_checks=1
        ),
        "https://blocked/": replace(_check(LinkState.BLOCKED, 0, 403), url="https://blocked/"),
        "https://unknown/": replace(_check(LinkState.UNKNOWN, 0), url="https://unknown/"),
    }
    articles = [_article(u) for u in [*links, "https://unchecked/"]]
    kept, acted = apply_link_policy(articles, links, LinkPolicy())
    assert [a.url for a in kept] == [a.url for a in articles if a.url != "https://dead/"]
    assert acted == (
        DeadLinkStory(
            path="https://dead/",
            url="https://dead/",
            action="dropped",
            reason="HTTP 404; dead since 2024-06-01 12:00 UTC, 2 checks",
        ),
    )
    kept, acted = apply_link_policy(articles, links, LinkPolicy(on_dead=OnDead.FLAG))
    assert len(kept) == 5 and [(s.url, s.action) for s in acted] == [("https://dead/", "flagged")]
    assert [a.link_state for a in kept] == ["dead", None, None, None, None]
    kept, acted = apply_link_policy(articles, links, LinkPolicy(on_dead=OnDead.KEEP))
    assert (kept, acted) == (tuple(articles), ())
    strict = LinkPolicy(confirm_after=timedelta(hours=3))
    assert apply_link_policy(articles, links, strict)[1] == ()


# --- config ----------------------------------------------------------------------------


def test_the_links_table_of_the_config() -> None:
    config = parse_config(
        {
            "links": {
                "timeout": 2.5,
                "concurrency": 8,
                "per_host": 2,
                "allow_private": True,
                "on_dead": "flag",
                "confirm_after": 0,
                "ttl_alive": 48,
                "ttl_unknown": 0.5,
            }
        },
        base_dir=Path("/site"),
    )
    links = config.links
    assert (links.timeout, links.concurrency, links.per_host, links.allow_private) == (
        2.5,
        8,
        2,
        True,
    )
    assert links.on_dead is OnDead.FLAG and links.confirm_after == timedelta(0)
    assert links.ttl_alive == timedelta(hours=48) and links.ttl_unknown == timedelta(minutes=30)
    assert links.ttl_dead == timedelta(hours=6) and links.ttl_blocked == timedelta(hours=24)
    assert parse_config({}, base_dir=Path("/site")).links == LinkPolicy()


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"timeot": 1}, "links: unknown key 'timeot'"),
        ({"on_dead": "delete"}, 'links: on_dead must be "drop", "flag" or "keep"'),
        ({"timeout": 0}, "links: timeout must be a number of seconds above 0"),
        ({"concurrency": 0}, "links: concurrency must be a whole number of at least 1"),
        ({"per_host": 1.5}, "links: per_host must be a whole number"),
        ({"ttl_dead": -1}, "links: ttl_dead must be a number of at least 0"),
        ({"allow_private": "yes"}, "links: allow_private must be true or false"),
    ],
)
def test_a_bad_links_table_is_an_error(links: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"links": links}, base_dir=Path("/site"))


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def link_site(
    link_server: LinkServer, write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> Path:
    """Four stories: alive, dead (404), blocked (403), unknown (418); and a config."""
    for day, path in enumerate(("/ok", "/missing", "/forbidden", "/teapot"), start=1):
        write_article(
            f"2024-05-0{day}-story{day}.md",
            text=article_text(
                title=f"Story {path}", url=link_server.url(path), date=f"2024-05-0{day}T10:00:00Z"
            ),
        )
    config = tmp_path / "config.toml"
    config.write_text(
        'source = ["site"]\nout = "out"\nstate = "state.sqlite"\n'
        "[links]\nconfirm_after = 0\nallow_private = true\n"
    )
    return config


def test_check_links_json(
    link_site: Path, link_server: LinkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-links", "--config", str(link_site), "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert set(document) == {"links", "summary"}
    assert [set(link) for link in document["links"]] == [
        {"url", "state", "http_status", "final_url", "error", "checked_at", "files"}
    ] * 4
    states = {link["url"].rpartition("/")[2]: link["state"] for link in document["links"]}
    assert states == {"ok": "alive", "missing": "dead", "forbidden": "blocked", "teapot": "unknown"}
    summary = document["summary"]
    assert {k: summary[k] for k in ("links", "alive", "dead", "blocked", "unknown", "skipped")} == {
        "links": 4,
        "alive": 1,
        "dead": 1,
        "blocked": 1,
        "unknown": 1,
        "skipped": 0,
    }
    assert summary["requests"] == link_server.requests and summary["cache_hits"] == 0
    assert "4 links (0 from the cache): 1 alive, 1 dead (0 confirmed)" in captured.err
    assert "\r" not in captured.err  # no progress bar when stderr is not a terminal


def test_check_links_refuses_local_links_unless_allowed(
    link_site: Path, link_server: LinkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    link_site.write_text(link_site.read_text().replace("allow_private = true", ""))
    assert main(["check-links", "--config", str(link_site), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["skipped"] == 4
    assert link_server.requests == 0
    assert main(["check-links", "--config", str(link_site), "--allow-private", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["alive"] == 1


def test_build_drops_a_story_only_once_its_link_is_confirmed_dead(
    link_site: Path, link_server: LinkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["build", "--config", str(link_site), "--check-links", "--json"]
    feed = link_site.parent / "out" / "feed.json"

    def titles() -> set[str]:
        return {item["title"] for item in json.loads(feed.read_text())["items"]}

    everything = {"Story /ok", "Story /missing", "Story /forbidden", "Story /teapot"}
    assert main(args) == 0  # first sight of the 404: not confirmed yet
    report = json.loads(capsys.readouterr().out)
    assert (report["published"], report["dropped_dead"]) == (4, 0)
    assert report["link_check"]["dead"] == 1 and titles() == everything

    sent = link_server.requests
    assert main(args) == 0  # inside the TTLs: the cache answers, nothing is confirmed
    captured = capsys.readouterr()
    assert json.loads(captured.out)["dropped_dead"] == 0 and link_server.requests == sent
    assert "articles with a confirmed dead link: 0 dropped, 0 flagged" in captured.err

    assert main([*args, "--fresh"]) == 0  # a second check finds it dead again
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (report["published"], report["dropped_dead"], report["files_read"]) == (3, 1, 4)
    assert titles() == everything - {"Story /missing"}  # blocked and unknown stay
    assert "articles with a confirmed dead link: 1 dropped, 0 flagged" in captured.err
    assert "4 links (0 from the cache): 1 alive, 1 dead (1 confirmed)" in captured.err


def test_build_can_flag_a_dead_story_instead(
    link_site: Path, link_server: LinkServer, capsys: pytest.CaptureFixture[str]
) -> None:
    link_site.write_text(link_site.read_text() + 'on_dead = "flag"\n')
    args = ["build", "--config", str(link_site), "--check-links", "--fresh"]
    assert main(args) == 0
    assert main(args) == 0
    assert "confirmed dead link: 0 dropped, 1 flagged" in capsys.readouterr().err
    out = link_site.parent / "out"
    items = {i["title"]: i for i in json.loads((out / "feed.json").read_text())["items"]}
    assert "dead-link" in items["Story /missing"]["tags"]
    assert "no longer appears to be available" in items["Story /missing"]["content_html"]
    assert "dead-link" not in items["Story /ok"]["tags"]
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo, name
        terms = {e.title: {t.term for t in e.get("tags", [])} for e in parsed.entries}
        assert "dead-link" in terms["Story /missing"] and "dead-link" not in terms["Story /ok"]


def test_bad_link_flags_are_fatal(link_site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-links", "--config", str(link_site), "--per-host", "0"]) == 1
    assert "--per-host must be at least 1, got 0" in capsys.readouterr().err
    assert main(["check-links", "--config", str(link_site), "--timeout", "0"]) == 1
    assert "--timeout must be a number of seconds above 0" in capsys.readouterr().err


# --- deadlines ---------------------------------------------------------------------------


def _recorded_sleep(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:  # counts against the deadline without waiting
        sleeps.append(seconds)

    return sleep


def test_a_retry_after_past_the_url_deadline_is_not_waited_for(link_server: LinkServer) -> None:
    sleeps: list[float] = []
    policy = LinkPolicy(allow_private=True, url_deadline=5)
    url = link_server.url("/stall/0?after=30")
    run = checker(policy, retrying=Retrying(), sleep=_recorded_sleep(sleeps))
    [result] = check_links([url], policy, checker=run).results
    assert (result.state, result.http_status) == (LinkState.UNKNOWN, 503)
    assert result.error == (
        "HTTP 503 Service Unavailable (not retried: a 30 s wait would pass the per-URL "
        "deadline of 5 s)"
    )
    assert sleeps == [] and link_server.requests == 1


def test_retries_and_redirect_hops_share_one_url_deadline(link_server: LinkServer) -> None:
    url = link_server.url("/stall/0?after=1")
    sleeps: list[float] = []
    unbounded = LinkPolicy(allow_private=True, url_deadline=1000)
    run = checker(unbounded, retrying=Retrying(), sleep=_recorded_sleep(sleeps))
    [result] = check_links([url], unbounded, checker=run).results
    # Without a deadline worth the name: two waits on each of 11 hops, then too many redirects.
    assert sleeps == [1.0] * 22 and result.error == "more than 10 redirects"

    sleeps.clear()
    url = link_server.url("/stall/0?after=1&run=2")  # a fresh chain
    bounded = LinkPolicy(allow_private=True, url_deadline=3.5)
    run = checker(bounded, retrying=Retrying(), sleep=_recorded_sleep(sleeps))
    [result] = check_links([url], bounded, checker=run).results
    assert sleeps == [1.0, 1.0, 1.0]  # hop 0 twice, hop 1 once: a fourth would pass 3.5 s
    assert (result.state, result.http_status) == (LinkState.UNKNOWN, 503)
    assert result.final_url == link_server.url("/stall/1?after=1&run=2")
    assert result.error is not None and "per-URL deadline of 3.5 s" in result.error


def test_a_slow_answer_is_cut_at_the_url_deadline_and_not_retried(
    link_server: LinkServer,
) -> None:
    policy = LinkPolicy(allow_private=True, timeout=5, url_deadline=0.3)
    report = check_links([link_server.url("/slow")], policy, checker=checker(policy))
    [result] = report.results
    assert result.state is LinkState.UNKNOWN and report.requests == 1
    assert result.error == "out of time: no final answer within the per-URL deadline of 0.3 s"


def test_the_run_deadline_leaves_the_rest_for_the_next_run(
    link_server: LinkServer, tmp_path: Path
) -> None:
    policy = LinkPolicy(allow_private=True, timeout=10, url_deadline=20, run_deadline=0.5)
    slow = [link_server.url(f"/delay?ms=3000&n={i}") for i in range(3)]
    quick = link_server.url("/ok")
    with State.open(tmp_path / "state.sqlite") as state:
        report = check_links([*slow, quick], policy, state, checker=checker(policy))
        stored = load_links(state, [*slow, quick])
    by_url = {r.url: r for r in report.results}
    assert by_url[quick].state is LinkState.ALIVE
    for url in slow:
        assert by_url[url].state is LinkState.UNKNOWN
        assert by_url[url].error == "not checked: the run's deadline of 0.5 s passed"
    assert report.unfinished == 3 and report.summary()["unfinished"] == 3
    assert set(stored) == {quick}  # the unchecked ones are not stored: the next run takes them


def test_the_url_and_run_deadlines_are_in_the_links_table() -> None:
    raw = {"links": {"url_deadline": 12, "run_deadline": 60.5, "network_down_minutes": 2}}
    policy = parse_config(raw, base_dir=Path("/")).links
    assert (policy.url_deadline, policy.run_deadline, policy.network_down_minutes) == (
        12.0,
        60.5,
        2.0,
    )
    with pytest.raises(ConfigError, match="url_deadline must be a number of seconds above 0"):
        parse_config({"links": {"url_deadline": 0}}, base_dir=Path("/"))
    with pytest.raises(ConfigError, match="network_down_minutes must be a number of minutes"):
        parse_config({"links": {"network_down_minutes": "5"}}, base_dir=Path("/"))


def test_check_links_ends_within_its_deadline_on_a_stalling_redirect_chain(
    link_server: LinkServer, write_article: Callable[..., Path], tmp_path: Path
) -> None:
    """The server of issue 10: 503 with Retry-After on each of 11 redirect hops."""
    write_article("2024-05-01-stall.md", url=link_server.url("/stall/0?after=1"))
    write_article("2024-05-02-stall-long.md", url=link_server.url("/stall/0?after=30&long=1"))
    config = tmp_path / "config.toml"
    config.write_text('source = ["site"]\nstate = "state.sqlite"\n[links]\nallow_private = true\n')
    deadline = 3.0
    command = [sys.executable, "-m", "feedpub", "check-links", "--config", str(config)]
    done = subprocess.run(
        [*command, "--json", "--url-deadline", str(deadline)],
        capture_output=True,
        text=True,
        timeout=2 * deadline + 5,  # interpreter start-up on a busy machine, plus the deadline
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    links = {link["url"]: link for link in json.loads(done.stdout)["links"]}
    assert len(links) == 2
    for link in links.values():
        assert link["state"] == "unknown" and link["http_status"] == 503
        assert "per-URL deadline of 3 s" in link["error"]
    assert link_server.hits["HEAD", "/stall/0"] == 4  # two each; the long wait is never taken
    assert link_server.hits["HEAD", "/stall/2"] == 0


# --- a network that looks down -----------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_when_nearly_every_host_fails_the_network_looks_down(tmp_path: Path) -> None:
    port = _closed_port()  # nothing listens: every connection is refused
    urls = [f"http://h{i}.test:{port}/story" for i in range(6)]
    urls.append(f"http://missing.test:{port}/story")  # would be dead if the network were up
    policy = LinkPolicy(allow_private=True)
    clock = [T0]
    run = checker(policy, clock=lambda: clock[0])
    with State.open(tmp_path / "state.sqlite") as state:
        report = check_links(urls, policy, state, checker=run, clock=lambda: clock[0])
        assert report.network_down == (7, 7) and report.summary()["network_down"] is True
        assert [r.state for r in report.results] == [LinkState.UNKNOWN] * 7
        for r in report.results:
            assert r.error is not None
            assert r.error.endswith(
                "(the network looked down: 7 of 7 hosts could not be resolved or reached)"
            )
        clock[0] = T0 + timedelta(minutes=4)  # inside network_down_minutes: from the cache
        again = check_links(urls, policy, state, checker=run, clock=lambda: clock[0])
        assert (again.cache_hits, again.requests) == (7, 0)
        clock[0] = T0 + timedelta(minutes=6)  # past it, though ttl_unknown is an hour
        later = check_links(urls, policy, state, checker=run, clock=lambda: clock[0])
        assert later.cache_hits == 0 and later.requests > 0


def test_a_few_failing_hosts_are_not_a_network_down(link_server: LinkServer) -> None:
    port = _closed_port()
    urls = [f"http://h{i}.test:{port}/story" for i in range(4)]
    urls.append(link_server.url("/ok", host="up.test"))
    policy = LinkPolicy(allow_private=True)
    report = check_links(urls, policy, checker=checker(policy))
    assert report.network_down is None
    errors = [r.error or "" for r in report.results if r.state is LinkState.UNKNOWN]
    assert len(errors) == 4 and not any("network looked down" in e for e in errors)


# --- connections ---------------------------------------------------------------------------


def test_each_host_keeps_its_connections_alive_within_the_per_host_limit(
    link_server: LinkServer,
) -> None:
    hosts, per_host = 6, 2
    urls = [link_server.url(f"/ok?n={i}", host=f"h{i % hosts}.test") for i in range(60)]
    policy = LinkPolicy(allow_private=True, concurrency=4, per_host=per_host)
    report = check_links(urls, policy, checker=checker(policy))
    assert report.counts()["alive"] == 60
    assert link_server.connections <= hosts * per_host
    assert max(link_server.max_in_flight[f"h{i}.test"] for i in range(hosts)) <= per_host
    assert link_server.max_in_flight["*"] <= 4


def test_a_freed_slot_goes_to_the_same_host_first_and_survives_cancelled_waiters() -> None:
    async def scenario() -> None:
        slots = _Slots(total=1, per_host=1)
        await slots.acquire("a")
        waiting = {
            name: asyncio.ensure_future(slots.acquire(host))
            for name, host in (("b", "b"), ("c", "c"), ("a2", "a"))
        }
        await asyncio.sleep(0)
        slots.release("a")  # "a" has a connection open and idle: its next request goes first
        await asyncio.wait_for(waiting["a2"], 1)
        assert not waiting["b"].done() and not waiting["c"].done()
        waiting["b"].cancel()  # e.g. the run's deadline
        await asyncio.sleep(0)
        slots.release("a")
        await asyncio.wait_for(waiting["c"], 1)  # the cancelled waiter neither stalls nor leaks
        assert (slots.free, slots.busy["c"], slots.busy["b"]) == (0, 1, 0)
        slots.release("c")
        assert slots.free == 1 and not slots.waiting and not slots.hosts

    asyncio.run(scenario())


def test_a_slow_link_check_never_holds_up_a_plain_build(
    link_server: LinkServer, write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    """build --check-links checks before it takes the output lock: cron's next plain
    build, started meanwhile, runs at once instead of exiting 4."""
    write_article(
        "2024-05-01-slow.md",
        text=article_text(title="Slow", url=link_server.url("/delay?ms=4000")),
    )
    config = tmp_path / "config.toml"
    config.write_text(
        'source = ["site"]\nout = "out"\nstate = "state.sqlite"\n'
        "[links]\nallow_private = true\ntimeout = 20\n"
    )
    checking = subprocess.Popen(
        [sys.executable, "-m", "feedpub", "build", "--config", str(config), "--check-links"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while link_server.requests == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the check is waiting on the slow server
        assert link_server.requests >= 1 and checking.poll() is None
        plain = subprocess.run(
            [sys.executable, "-m", "feedpub", "build", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert plain.returncode == 0, plain.stderr
        assert checking.poll() is None, "the plain build ran while the check was still going"
        assert (tmp_path / "out" / "rss.xml").is_file()
    finally:
        try:
            _, err = checking.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            checking.kill()  # and read to the end, which closes the pipe
            _, err = checking.communicate()
    assert checking.returncode == 0, err
