#!/usr/bin/env python3
"""Deploy benchmark: requests and bytes sent by `feedpub deploy`, against a naive sync.

On a build of N articles (made with ../shared/tools/make_corpus.py from the
real corpus; archive pages on), against moto's S3 server started here on
127.0.0.1 (a separate process; `pip install 'moto[server]'`), each round runs,
every command a fresh process started here:

  cold      `feedpub deploy` into an empty bucket
  naive     PutObject of every file of the folder (the same headers), no listing
  +1 change one article added, `feedpub build`, then `feedpub deploy`
  naive     every file uploaded again
  no change `feedpub deploy` once more

and prints, per run, the requests and request-body bytes sent (counted by
botocore's before-send hook, retries included), seconds as median (min–max)
over the rounds, and each figure as a ratio to the naive sync measured in
the same round. The server is reset between rounds.

    python bench/deploy.py                     # 20,000 articles, 3 rounds
    python bench/deploy.py --size 5000 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from corpora import (  # bench/corpora.py, beside this script
    add_corpus_options,
    check_corpus_options,
    make_corpus,
)

PREFIX = "feeds/"
ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def naive_sync(out: Path, bucket: str, endpoint: str, concurrency: int) -> dict[str, int]:
    """Upload every visible file with its headers, as `aws s3 cp --recursive` would."""
    import boto3
    from botocore.config import Config as BotoConfig

    from feedpub.deploy.plan import scan_output
    from feedpub.deploy.settings import DEFAULT_CACHE_CONTROL

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        config=BotoConfig(
            s3={"addressing_style": "path"},
            max_pool_connections=concurrency,
            request_checksum_calculation="when_required",
        ),
    )
    sent = {"requests": 0, "bytes_sent": 0}

    def count(request: object, **_: object) -> None:
        sent["requests"] += 1  # the GIL makes += on a dict item safe enough for a count
        sent["bytes_sent"] += int(request.headers.get("Content-Length") or 0)  # type: ignore[attr-defined]

    client.meta.events.register("before-send.s3", count)

    def put(path: str, media_type: str, cache: str) -> None:
        client.put_object(
            Bucket=bucket,
            Key=PREFIX + path,
            Body=(out / path).read_bytes(),
            ContentType=media_type,
            CacheControl=cache,
        )

    files = scan_output(out, DEFAULT_CACHE_CONTROL)
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda f: put(f.path, f.content_type, f.cache_control), files))
    return sent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("moto's server did not start (pip install 'moto[server]')")


def reset_moto(endpoint: str, buckets: list[str]) -> None:
    request = urllib.request.Request(endpoint + "/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=60).close()
    for bucket in buckets:
        urllib.request.urlopen(
            urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"), timeout=60
        ).close()


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return seconds, done.stdout


Row = tuple[str, int, int, float]  # run, requests, bytes, seconds


def one_round(config: Path, corpus: Path, endpoint: str, concurrency: int) -> list[Row]:
    feedpub = [sys.executable, "-m", "feedpub"]
    out = config.parent / "site" / "feeds"
    added = corpus / "zz-bench-added.md"
    added.unlink(missing_ok=True)
    timed([*feedpub, "build", "--config", str(config), "--quiet"])
    reset_moto(endpoint, ["smart", "naive"])
    deploy = [*feedpub, "deploy", "--config", str(config), "--json", "--quiet"]
    naive = [sys.executable, __file__, "--naive", str(out), endpoint, str(concurrency)]
    rows: list[Row] = []

    def run(name: str, argv: list[str]) -> dict[str, object]:
        seconds, stdout = timed(argv)
        report = json.loads(stdout)
        rows.append((name, int(report["requests"]), int(report["bytes_sent"]), seconds))
        return dict(report)

    run("cold", [*deploy, "--bucket", "smart"])
    run("cold naive", [*naive, "naive"])
    # A new story, the newest: a published one copied under new URLs and a later date.
    candidates = sorted(p for p in corpus.iterdir() if p.suffix == ".md")
    text = next(
        t
        for t in (p.read_text(encoding="utf-8") for p in candidates[len(candidates) // 2 :])
        if "\npublished: true" in t
    )
    text = re.sub(r"(?m)^publishedDateTime: .*$", "publishedDateTime: 2026-11-01T00:00:00Z", text)
    added.write_text(text.replace("story-", "added-story-"), encoding="utf-8")
    try:
        _, built = timed([*feedpub, "build", "--config", str(config), "--quiet", "--json"])
        written = json.loads(built)["files_written"]
        report = run("+1 article", [*deploy, "--bucket", "smart"])
        run("+1 article naive", [*naive, "naive"])
        run("no change", [*deploy, "--bucket", "smart"])
    finally:
        added.unlink()
    uploaded = [u["path"] for u in report["uploaded"]]  # type: ignore[attr-defined]
    if sorted(uploaded) != sorted(written):
        sys.exit(f"uploaded {len(uploaded)} files, the build wrote {len(written)}")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    add_corpus_options(parser, Path("/tmp/feedpub-deploy-bench"))
    parser.add_argument("--naive", nargs=4, metavar=("OUT", "ENDPOINT", "N", "BUCKET"))
    args = parser.parse_args()
    if args.naive:
        out, endpoint, concurrency, bucket = args.naive
        print(json.dumps(naive_sync(Path(out), bucket, endpoint, int(concurrency))))
        return 0
    check_corpus_options(args)
    corpus = make_corpus(args.size, args.work, args.source)
    moto, endpoint = start_moto()
    config = args.work / "config.toml"
    config.write_text(
        f'title = "Bench"\nbase_url = "https://bench.example/feeds/"\nsource = ["{corpus}"]\n'
        f'out = "site/feeds"\nstate = "site/state.sqlite"\narchives = true\n\n[deploy]\n'
        f'endpoint_url = "{endpoint}"\npath_style = true\nprefix = "{PREFIX}"\n'
        f"concurrency = {args.concurrency}\n"
    )
    shutil.rmtree(args.work / "site", ignore_errors=True)
    rounds: list[list[Row]] = []
    try:
        for _ in range(args.rounds):
            rounds.append(one_round(config, corpus, endpoint, args.concurrency))
    finally:
        moto.terminate()
        moto.wait()
    files = sum(
        1 for p in (args.work / "site" / "feeds").rglob("*") if p.is_file() and p.name[0] != "."
    )
    print(f"{args.size} articles, archives on: {files} files; {args.rounds} rounds")
    print(
        f"{'run':<17} {'requests':>9} {'MB sent':>9} {'seconds: median (min–max)':>27} "
        f"{'requests':>9} {'bytes':>7} {'time':>6}  (x naive)"
    )
    names = [name for name, *_ in rounds[0]]

    def median_of(i: int, column: int) -> float:
        return statistics.median(r[i][column] for r in rounds)

    for i, name in enumerate(names):
        requests, sent = median_of(i, 1), median_of(i, 2)
        seconds = [r[i][3] for r in rounds]
        # The baseline: the naive sync of the same state (for "no change", of the last one).
        base = i + 1 if name in ("cold", "+1 article") else i if "naive" in name else 3
        base_req, base_sent, base_secs = median_of(base, 1), median_of(base, 2), median_of(base, 3)
        median = statistics.median(seconds)
        print(
            f"{name:<17} {requests:>9.0f} {sent / 1e6:>9.2f} "
            f"{median:>9.2f} ({min(seconds):.2f}–{max(seconds):.2f}) {'':>6}"
            f"{requests / base_req:>9.4f} {sent / max(base_sent, 1):>7.4f} "
            f"{median / base_secs:>6.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
