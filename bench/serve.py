"""Benchmark ``feedpub serve`` on keep-alive connections, against the standard library's server.

    python bench/serve.py [--runs 5] [--requests 2000] [--connections 8]

The bundled example site is built (as if published at
https://example.org/news/feeds/) into a temporary folder. Two servers, each in
its own process on 127.0.0.1, serve that folder:

- ``feedpub serve`` (one asyncio event loop, TCP_NODELAY, cached bodies);
- the baseline: ``http.server.ThreadingHTTPServer`` with
  ``SimpleHTTPRequestHandler`` speaking HTTP/1.1, the design ``feedpub serve``
  used before (a thread per connection, Nagle's algorithm on, every file read
  and compressed again per request; here without compression at all);
- the same with ``TCP_NODELAY``, to tell what the event loop and the cache
  add from what turning Nagle's algorithm off does.

A client in this process opens ``--connections`` keep-alive connections and
sends ``--requests`` GETs over them, one at a time per connection, and checks
every answer is a 200 of the right length. Two loads: a small topic feed, and
the site's largest feed with ``Accept-Encoding: gzip`` (which the baseline
ignores, so it sends more bytes but compresses nothing). Each load runs
``--runs`` times against each server, alternating; medians with min-max and
the ratio feedpub / baseline are printed, all from this run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE_URL = "https://example.org/news/feeds/"


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"


class _NoDelayHandler(_Handler):
    disable_nagle_algorithm = True


def run_baseline(folder: Path, nodelay: bool) -> None:
    """A baseline server for ``folder`` (…/news/feeds), at /news/feeds/: its grandparent at /."""
    handler = partial(_NoDelayHandler if nodelay else _Handler, directory=str(folder.parent.parent))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        print(server.server_address[1], flush=True)
        server.serve_forever()


def start(command: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # both servers log every request; the cost stays, unread
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    port = line.split(" at ")[1].split("/")[2].split(":")[1] if " at " in line else line
    return proc, int(port)


async def load(port: int, path: str, headers: str, connections: int, requests: int) -> float:
    """Requests per second over ``connections`` keep-alive connections."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode()
    per_connection = requests // connections

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(per_connection):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), head[:40]
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
        writer.close()
        await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return per_connection * connections / (time.perf_counter() - started)


def build_site(out: Path) -> None:
    from feedpub.config import load_config
    from feedpub.publish import build

    config = load_config(REPO / "config.toml")
    build(replace(config, out=out, base_url=BASE_URL), datetime(2026, 11, 27, tzinfo=UTC))


def summary(rates: list[float]) -> str:
    return f"{statistics.median(rates):7.0f} req/s ({min(rates):.0f}-{max(rates):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--nodelay", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline is not None:
        run_baseline(args.baseline, args.nodelay)
        return

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "news" / "feeds"
        build_site(out)
        feeds = sorted(out.rglob("rss.xml"), key=lambda p: p.stat().st_size)
        small, large = feeds[0], feeds[-1]
        loads = [
            ("small feed", small, ""),
            ("large feed, gzip", large, "Accept-Encoding: gzip\r\n"),
        ]
        servers = {
            "feedpub serve": start(
                [sys.executable, "-m", "feedpub", "serve", "--out", str(out), "--port", "0"]
            ),
            "baseline": start([sys.executable, __file__, "--baseline", str(out)]),
            "baseline+nodelay": start(
                [sys.executable, __file__, "--baseline", str(out), "--nodelay"]
            ),
        }
        print(
            f"{os.cpu_count()} CPUs; {args.requests} requests over {args.connections} keep-alive "
            f"connections, {args.runs} runs each (median, min-max)"
        )
        try:
            for name, file, headers in loads:
                path = "/news/feeds/" + file.relative_to(out).as_posix()
                size = file.stat().st_size
                rates: dict[str, list[float]] = {server: [] for server in servers}
                for _ in range(args.runs):
                    for server, (_, port) in servers.items():
                        rate = asyncio.run(
                            load(port, path, headers, args.connections, args.requests)
                        )
                        rates[server].append(rate)
                print(f"{name}: {path} ({size / 1024:.1f} KiB)")
                ours = statistics.median(rates["feedpub serve"])
                for server, measured in rates.items():
                    ratio = ours / statistics.median(measured)
                    versus = (
                        f"  feedpub serve / this: {ratio:.1f}x" if server != "feedpub serve" else ""
                    )
                    print(f"  {server:17} {summary(measured)}{versus}")
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
