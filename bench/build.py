#!/usr/bin/env python3
"""Build benchmark: cold, warm and incremental builds against the floor, measured in one run.

For each corpus size (made with ../shared/tools/make_corpus.py from the real
corpus) it times, as separate processes, each a fresh `python` started here:

  floor      reading every article file and parsing its front matter with
             libyaml (CSafeLoader) in one process, nothing else
  cold       `feedpub build` with no state file and an empty output folder
  warm       the same build again, nothing changed
  touch+add  one file touched (mtime only) and one new article added

and prints seconds, the ratio to the floor (floor and cold are interleaved
so both see the same machine), and the build's peak RSS.

    python bench/build.py                       # 5k, 20k and 100k articles
    python bench/build.py --sizes 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

FLOOR = r"""
import os, sys, yaml
for entry in sorted(os.scandir(sys.argv[1]), key=lambda e: e.name):
    with open(entry.path, "rb") as f:
        text = f.read().decode("utf-8-sig")
    yaml.load(text.split("---", 2)[1], Loader=yaml.CSafeLoader)
"""


def run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, the process itself) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    err = process.stderr.read().decode() if process.stderr else ""
    if process.returncode not in (0, 3):
        sys.exit(f"{' '.join(argv)} failed ({process.returncode}):\n{err}")
    return seconds, usage.ru_maxrss


def make_corpus(size: int, work: Path, source: Path) -> Path:
    corpus = work / f"corpus-{size}"
    if corpus.is_dir() and len(os.listdir(corpus)) == size:
        return corpus
    shutil.rmtree(corpus, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "tools" / "make_corpus.py"),
            "--source",
            str(source),
            "--count",
            str(size),
            "--out",
            str(corpus),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return corpus


def bench_size(
    size: int, work: Path, source: Path, rounds: int
) -> list[tuple[str, float, float, int]]:
    corpus = make_corpus(size, work, source)
    site = work / f"site-{size}"
    config = work / f"config-{size}.toml"
    config.write_text(
        f'title = "Bench"\nbase_url = "https://bench.example/feeds/"\n'
        f'source = ["{corpus}"]\nout = "{site}/feeds"\nstate = "{site}/state.sqlite"\n'
    )
    build = [sys.executable, "-m", "feedpub", "build", "--config", str(config), "--quiet"]
    floors: list[float] = []
    colds: list[tuple[float, int]] = []
    for _ in range(rounds):
        floors.append(run([sys.executable, "-c", FLOOR, str(corpus)])[0])
        shutil.rmtree(site, ignore_errors=True)
        colds.append(run(build))
        floors.append(run([sys.executable, "-c", FLOOR, str(corpus)])[0])
    floor = statistics.median(floors)
    cold, cold_rss = min(colds)
    warm, warm_rss = min(run(build) for _ in range(3))
    victim = sorted(corpus.iterdir())[size // 2]
    os.utime(victim)
    added = corpus / "zz-bench-added.md"
    text = victim.read_text(encoding="utf-8")
    added.write_text(text.replace("story-", "added-story-", 1), encoding="utf-8")
    try:
        incremental, inc_rss = run(build)
    finally:
        added.unlink()
    run(build)  # leave the state matching the corpus for the next round
    return [
        ("floor", floor, 1.0, 0),
        ("cold", cold, cold / floor, cold_rss),
        ("warm, no change", warm, warm / floor, warm_rss),
        ("touch 1 + add 1", incremental, incremental / floor, inc_rss),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="5000,20000,100000")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved floor/cold pairs")
    parser.add_argument("--work", type=Path, default=Path("/tmp/feedpub-bench"))
    parser.add_argument("--source", type=Path, default=SHARED / "corpus" / "powerapps" / "_news")
    args = parser.parse_args()
    if not args.source.is_dir():
        sys.exit(f"no corpus at {args.source}: pass --source DIR")
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"{'articles':>9}  {'run':<16} {'seconds':>8} {'x floor':>8} {'peak RSS':>9}")
    for size in (int(s) for s in args.sizes.split(",")):
        for name, seconds, ratio, rss in bench_size(size, args.work, args.source, args.rounds):
            memory = f"{rss / 1024:.0f} MiB" if rss else ""
            print(f"{size:>9}  {name:<16} {seconds:>8.2f} {ratio:>8.2f} {memory:>9}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
