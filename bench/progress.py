#!/usr/bin/env python3
"""Progress benchmark: how soon and how often a terminal hears of a build, and what it costs.

For a corpus made with ../shared/tools/make_corpus.py from the real corpus, it
runs `feedpub build` as a fresh process, in rounds, each kind interleaved so
all see the same machine:

  cold, terminal   no state file, empty output folder, stderr on a pseudo-terminal
  cold, piped      the same with stderr on a pipe (the cron run: no progress drawn)
  warm, terminal   nothing changed since the last build
  warm, piped

For the terminal runs it reads every redraw as it arrives and prints the
seconds from the process's start to the first progress line, the redraws a
second, and the longest gap between two redraws; for the piped runs it checks
that stderr holds no carriage return. Times are medians with min–max, and the
ratio of each terminal run to its piped baseline.

    python bench/progress.py                     # 20,000 articles, 3 rounds
    python bench/progress.py --size 100000 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from corpora import (  # bench/corpora.py, beside this script
    add_corpus_options,
    check_corpus_options,
    make_corpus,
)


@dataclass
class Run:
    seconds: float
    redraws: list[float]  # seconds from the start, one per carriage return drawn


def run_on_terminal(argv: list[str]) -> Run:
    main_fd, terminal = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal
    )
    os.close(terminal)
    redraws: list[float] = []
    text = b""
    while True:
        select.select([main_fd], [], [])
        try:
            data = os.read(main_fd, 65536)
        except OSError:  # EIO: the build exited
            break
        if not data:
            break
        now = time.monotonic() - started
        text += data
        # "\r\033[K" alone erases the line at the end; a redraw has text after "\r".
        redraws += [now] * (data.count(b"\r") - data.count(b"\r\033[K") - data.count(b"\r\n"))
    os.close(main_fd)
    if process.wait() not in (0, 3):
        sys.exit(f"{' '.join(argv)} failed:\n{text.decode(errors='replace')}")
    return Run(time.monotonic() - started, redraws)


def run_piped(argv: list[str]) -> Run:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode not in (0, 3):
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr.decode(errors='replace')}")
    if b"\r" in done.stderr or b"\033" in done.stderr:
        sys.exit("a piped build drew progress on stderr:\n" + done.stderr.decode())
    return Run(seconds, [])


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    add_corpus_options(parser, Path("/tmp/feedpub-bench"))
    args = parser.parse_args()
    check_corpus_options(args)
    corpus = make_corpus(args.size, args.work, args.source)
    site = args.work / f"progress-{args.size}"
    build = [sys.executable, "-m", "feedpub", "build", "--source", str(corpus)]
    build += ["--out", str(site / "feeds"), "--state", str(site / "state.sqlite")]
    build += ["--base-url", "https://bench.example/feeds/"]

    runs: dict[str, list[Run]] = {}
    for _ in range(args.rounds):
        for name, runner in (("terminal", run_on_terminal), ("piped", run_piped)):
            shutil.rmtree(site, ignore_errors=True)
            runs.setdefault(f"cold, {name}", []).append(runner(build))
            runs.setdefault(f"warm, {name}", []).append(runner(build))

    print(f"{args.size} articles, {args.rounds} rounds; seconds: median (min–max)")
    print(f"{'run':<16} {'wall seconds':>22} {'x piped':>8}")
    for name, measured in runs.items():
        seconds = [r.seconds for r in measured]
        baseline = statistics.median(r.seconds for r in runs[name.replace("terminal", "piped")])
        ratio = statistics.median(seconds) / baseline
        print(f"{name:<16} {spread(seconds):>22} {ratio:>8.2f}")
    cold = runs["cold, terminal"]
    firsts = [r.redraws[0] for r in cold]
    rates = [(len(r.redraws) - 1) / (r.redraws[-1] - r.redraws[0]) for r in cold]
    # The longest silence on the terminal: between two redraws, or from the last to the end.
    gaps = [
        max(b - a for a, b in zip([*r.redraws], [*r.redraws[1:], r.seconds], strict=True))
        for r in cold
    ]
    print("cold build on a terminal:")
    print(f"  first progress line after   {spread(firsts)} s")
    print(f"  redraws a second            {spread(rates)}")
    print(f"  longest gap between redraws {spread(gaps)} s (the last: until the summary)")
    print(f"  redraws per build           {spread([float(len(r.redraws)) for r in cold])}")
    print("piped builds: no carriage return or escape on stderr (checked on every run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
