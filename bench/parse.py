#!/usr/bin/env python3
"""Parse benchmark: the CPU one article file costs a worker, beside the libyaml floor.

Each round times, in this one process and over the same files:

  libyaml floor  reading each file and parsing its front matter with libyaml
                 (CSafeLoader), as bench/build.py's floor does
  parse          what a build's worker does per file: ``load_file`` (read,
                 hash, front matter, fields) and ``encode_row`` (the cache row
                 sent to the parent)

CPU time (``time.process_time``), not wall time: the machine may be shared.
Figures are the median over the rounds with their min–max, in microseconds
per file; the ratio is the parse's median over the floor's.

    python bench/parse.py --corpus /tmp/feedpub-bench/corpus-20000 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's feedpub, not an installed one

from feedpub.sources.discover import SourceFile, scan_sources  # noqa: E402
from feedpub.sources.loader import load_file  # noqa: E402
from feedpub.store.articles import encode_row  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "powerapps" / "_news"
MAX_FILE_BYTES = 10_000_000


def parse_floor(files: Sequence[SourceFile]) -> None:
    for file in files:
        with open(file.path, "rb") as f:
            text = f.read().decode("utf-8-sig")
        yaml.load(text.split("---", 2)[1], Loader=yaml.CSafeLoader)


def parse_rows(files: Sequence[SourceFile]) -> None:
    for file in files:
        encode_row(file, load_file(file, MAX_FILE_BYTES), 0, "bench")


def per_file_micros(
    run: Callable[[Sequence[SourceFile]], None], files: Sequence[SourceFile]
) -> float:
    start = time.process_time()
    run(files)
    return (time.process_time() - start) / len(files) * 1e6


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} µs ({min(values):.1f}–{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="a folder of articles")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each (default 5)")
    args = parser.parse_args()
    files = scan_sources([args.corpus]).files
    if not files:
        sys.exit(f"no article files in {args.corpus}")
    # One untimed pass of each: imports, caches and the page cache warm, as in a build's workers.
    parse_floor(files)
    parse_rows(files)
    floors: list[float] = []
    parses: list[float] = []
    for _ in range(args.rounds):  # paired: a floor beside each parse
        floors.append(per_file_micros(parse_floor, files))
        parses.append(per_file_micros(parse_rows, files))
    ratio = statistics.median(parses) / statistics.median(floors)
    print(f"{len(files):,} files, {args.rounds} rounds, CPU per file: median (min–max)")
    print(f"  libyaml floor  {summary(floors)}")
    print(f"  parse          {summary(parses)}   {ratio:.2f}× the floor")


if __name__ == "__main__":
    main()
