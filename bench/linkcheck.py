"""Benchmark the link checker against a local server that answers after a fixed delay.

    python bench/linkcheck.py [--links 2000] [--delay-ms 50] [--concurrency 32]
                              [--hosts 100] [--per-host 4] [--runs 3]

A server in a separate process on 127.0.0.1 answers every request after
``--delay-ms``. The links are spread over ``--hosts`` host names, which a
stand-in resolver maps to 127.0.0.1 (no DNS query leaves the machine;
``allow_private`` is on, as loopback is otherwise refused). The ideal time is
links × delay / concurrency, the time a checker that is never the bottleneck
would take; the ratio measured / ideal is printed as the median of ``--runs``
runs with their min–max. A second run against the state file then shows the
cache: no request at all.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from feedpub.config import LinkPolicy
from feedpub.links.check import LinkChecker, LinkReport, check_links
from feedpub.store import State

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Type: text/html\r\n\r\n"


async def serve(delay: float) -> None:
    """Answer every request on a connection after ``delay`` seconds, keeping it alive."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(delay)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


async def loopback(host: str, port: int) -> tuple[str, ...]:
    return ("127.0.0.1",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3, help="cold runs (each a new state file)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    delay = args.delay_ms / 1000
    if args.serve:
        asyncio.run(serve(delay))
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--delay-ms", str(args.delay_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        urls = [f"http://h{i % args.hosts}.bench.test:{port}/story/{i}" for i in range(args.links)]
        policy = LinkPolicy(
            allow_private=True, concurrency=args.concurrency, per_host=args.per_host
        )
        checker = LinkChecker(policy, resolver=loopback)
        runs: list[LinkReport] = []
        for _ in range(args.runs):
            with (
                tempfile.TemporaryDirectory() as tmp,
                State.open(Path(tmp) / "state.sqlite") as state,
            ):
                runs.append(check_links(urls, policy, state, checker=checker))
                cached = check_links(urls, policy, state, checker=checker)
    finally:
        server.terminate()
        server.wait()

    seconds = sorted(r.seconds for r in runs)
    median = statistics.median(seconds)
    ideal = args.links * delay / args.concurrency
    print(
        f"{args.links} links on {args.hosts} hosts, {args.delay_ms:g} ms each, "
        f"concurrency {args.concurrency}, per host {args.per_host}, {args.runs} runs"
    )
    print(
        f"checked:  {median:.2f} s median ({seconds[0]:.2f}-{seconds[-1]:.2f}), "
        f"{runs[0].counts()['alive']} alive, {runs[0].requests} requests"
    )
    print(f"rate:     {args.links / median:.0f} links/s")
    print(f"ideal:    {ideal:.2f} s (links × delay / concurrency)")
    print(
        f"ratio:    {median / ideal:.2f} × ideal median "
        f"({seconds[0] / ideal:.2f}-{seconds[-1] / ideal:.2f})"
    )
    print(
        f"cached:   {cached.seconds:.2f} s for a second run, "
        f"{cached.requests} requests, {cached.cache_hits} cache hits"
    )


if __name__ == "__main__":
    main()
