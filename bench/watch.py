#!/usr/bin/env python3
"""Watch benchmark: from an editor's save to the rewritten feed, under `feedpub serve --watch`.

For each corpus size (made with ../shared/tools/make_corpus.py from the real
corpus, then hard-linked into a working copy the benchmark changes only by
replacing files) it starts `feedpub serve --watch` on the corpus, waits for its
first build, then times N rounds of:

  save        one of the newest published articles replaced, as an editor
              saves (its title changed, written aside, renamed over it)
  latency     from that rename until the site feed on disk (rss.xml, where the
              newest stories are) holds the new title, read every 5 ms; the
              round ends when the watcher reports the rebuild done
  build       the rebuild's own time, as the build reports it

and beside them, in the same run, the baselines:

  no-change   a plain `feedpub build` with nothing changed (the least a
              rescanning rebuild costs: scan and fingerprint, in a new process)
  polling     the same save picked up by the polling watcher (a snapshot of
              the sources every second, then a full build), fewer rounds

Figures are medians with their min–max, and the ratio of each median to the
no-change build's.

    python bench/watch.py                                  # 20k and 100k articles
    python bench/watch.py --sizes 20000 --rounds 5 --poll-rounds 0
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from build import published_files, replace_text, working_copy  # bench/build.py
from corpora import add_corpus_options, check_corpus_options, make_corpus  # bench/corpora.py

REPO = Path(__file__).resolve().parent.parent
READ_EVERY = 0.005
TIMEOUT = 600.0


def newest(files: list[Path], count: int) -> list[Path]:
    """The ``count`` files with the latest publishedDateTime: they are in the site feed."""
    dated = []
    for path in files:
        found = re.search(r"^publishedDateTime: *(\S+)", path.read_text("utf-8-sig"), re.M)
        dated.append((found[1] if found else "", path.name, path))
    return [path for _, _, path in sorted(dated, reverse=True)[:count]]


def edit_title(path: Path, marker: str) -> None:
    text = path.read_text("utf-8")
    edited = re.sub(r'^(title: ".*)"(\r?)$', rf'\1 {marker}"\2', text, count=1, flags=re.M)
    if edited == text:
        sys.exit(f"{path}: no double-quoted title line to edit")
    replace_text(path, edited)


def wait_for_bytes(path: Path, needle: bytes, since: float) -> float:
    """Seconds from ``since`` until ``path`` holds ``needle``, reading it every 5 ms."""
    while True:
        try:
            if needle in path.read_bytes():
                return time.perf_counter() - since
        except FileNotFoundError:
            pass
        if time.perf_counter() - since > TIMEOUT:
            sys.exit(f"{path} never showed {needle!r}")
        time.sleep(READ_EVERY)


def wait_for_log(log: Path, count: int, what: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while (text := log.read_text()).count(what) < count:
        if time.monotonic() > deadline:
            sys.exit(f"no {what!r} in the log after {TIMEOUT:.0f} s:\n{text[-2000:]}")
        time.sleep(0.02)
    return text


def build_seconds(log_text: str) -> list[float]:
    """The times the rebuilds reported ("… unchanged, 0 removed in 0.41 s")."""
    return [float(s) for s in re.findall(r"removed in ([0-9.]+) s", log_text)]


def no_change_build(config: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "feedpub", "build", "--config", str(config), "--quiet"],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def bench_serve(config: Path, out: Path, files: list[Path], rounds: int, work: Path) -> dict:
    """Latencies under `serve --watch`, with a no-change build timed before each round."""
    log = work / "serve-watch.log"
    latencies: list[float] = []
    baseline: list[float] = []
    serve = [sys.executable, "-m", "feedpub", "serve", "--watch", "--config", str(config)]
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [*serve, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # printed once the first build is done
            if " at http://" not in line:
                sys.exit(f"serve did not start: {line!r}\n{log.read_text()[-2000:]}")
            if "once a second" in log.read_text():
                sys.exit("serve --watch fell back to polling: no inotify here")
            before = len(build_seconds(log.read_text()))
            for round_ in range(rounds):
                baseline.append(no_change_build(config))
                marker = f"(watch bench {os.getpid()}-{round_})"
                edit_title(files[round_ % len(files)], marker)
                saved = time.perf_counter()
                latencies.append(wait_for_bytes(out / "rss.xml", marker.encode(), saved))
                wait_for_log(log, round_ + 1, "sources changed: rebuilt")
            text = wait_for_log(log, rounds, "sources changed: rebuilt")
            if "rebuild failed" in text:
                sys.exit(f"a rebuild failed:\n{text[-2000:]}")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
            if proc.stdout is not None:
                proc.stdout.close()
    builds = build_seconds(log.read_text())[before:]
    rebuilds = log.read_text().count("sources changed: rebuilding")
    return {"latency": latencies, "no-change": baseline, "build": builds, "rebuilds": [rebuilds]}


def bench_polling(config: Path, out: Path, files: list[Path], rounds: int) -> list[float]:
    """The same save under the polling watcher (the fallback, and the watcher before)."""
    sys.path.insert(0, str(REPO))
    from feedpub.config import load_config
    from feedpub.watch import build_in_process, poll_and_build, snapshot_config

    site = load_config(config)
    done = threading.Semaphore(0)

    def rebuild(_: object, changed: object) -> None:
        build_in_process(["--config", str(config), "--quiet"])
        done.release()

    latencies = []
    stop = threading.Event()
    poller = threading.Thread(
        target=poll_and_build,
        args=(lambda: site, rebuild, stop),
        kwargs={"on_error": print, "since": snapshot_config(site)},
        daemon=True,
    )
    poller.start()
    try:
        for round_ in range(rounds):
            marker = f"(poll bench {os.getpid()}-{round_})"
            edit_title(files[(round_ + 7) % len(files)], marker)
            saved = time.perf_counter()
            latencies.append(wait_for_bytes(out / "rss.xml", marker.encode(), saved))
            if not done.acquire(timeout=TIMEOUT):
                sys.exit("the polling watcher's build never ended")
    finally:
        stop.set()
        poller.join(timeout=TIMEOUT)
    return latencies


def span(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} ({min(values):.3f}–{max(values):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000,100000", help="corpus sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=10, help="saves under serve --watch")
    parser.add_argument("--poll-rounds", type=int, default=3, help="saves under polling (0: none)")
    add_corpus_options(parser, Path("/tmp/feedpub-bench"))
    args = parser.parse_args()
    check_corpus_options(args)
    head = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    print(f"{os.cpu_count()} cores; build of {head}")
    print(f"medians (min–max) in seconds; {args.rounds} saves, {args.poll_rounds} polled")
    print(f"{'articles':>8}  {'case':<34} {'seconds':<26} × no-change build")
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = working_copy(make_corpus(size, args.work, args.source), args.work)
        site_dir = args.work / f"watch-site-{size}"
        shutil.rmtree(site_dir, ignore_errors=True)
        site_dir.mkdir()
        config = site_dir / "config.toml"
        out = site_dir / "feeds"
        config.write_text(
            f'title = "Bench"\nbase_url = "https://bench.example/feeds/"\n'
            f'source = ["{corpus}"]\nout = "{out}"\nstate = "{site_dir}/.state/state.sqlite"\n'
        )
        files = newest(published_files(corpus), max(args.rounds, args.poll_rounds) + 8)
        found = bench_serve(config, out, files, args.rounds, site_dir)
        if args.poll_rounds:
            found["polling watcher: save to feed"] = bench_polling(
                config, out, files, args.poll_rounds
            )
        base = statistics.median(found["no-change"])
        rows = [
            ("serve --watch: save to feed", found["latency"]),
            ("  the rebuild, as it reports", found["build"]),
            ("no-change `feedpub build`", found["no-change"]),
        ]
        if args.poll_rounds:
            rows.append(("polling watcher: save to feed", found["polling watcher: save to feed"]))
        for name, values in rows:
            ratio = statistics.median(values) / base
            print(f"{size:>8}  {name:<34} {span(values):<26} {ratio:5.2f}×", flush=True)
        print(f"{size:>8}  rebuilds for {args.rounds} saves: {found['rebuilds'][0]}", flush=True)
        shutil.rmtree(corpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
