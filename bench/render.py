#!/usr/bin/env python3
"""Render benchmark: the CPU time of rendering and writing every feed of a corpus.

The corpus is loaded and grouped once, as a cold build does; then each round
renders every feed (RSS, Atom, JSON Feed, the HTML pages, the discovery files)
in this process and writes them into an empty folder, and, right beside it,
times a floor: the same items' text (title, link, summary, body HTML, date)
encoded three times (once per format) with the C JSON encoder, the least a
renderer that writes each item's words could do. CPU time (this process
only: rendering runs with one worker), medians over the rounds with their
min–max; the ratio is the render + write median over the floor median.

    python bench/render.py                                  # the 20k corpus, 7 rounds
    python bench/render.py --corpus ../shared/corpus/powerapps --rounds 11
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from corpora import DEFAULT_SOURCE, make_corpus  # bench/corpora.py, beside this script

from feedpub.config import Config
from feedpub.group import group_articles
from feedpub.model import Article, Feed
from feedpub.output import write_outputs
from feedpub.render.site import render_context, render_site
from feedpub.sources.loader import load_sources

NOW = datetime(2026, 11, 30, 6, tzinfo=UTC)
FORMATS = 3
Result = TypeVar("Result")


def timed(work: Callable[[], Result]) -> tuple[float, Result]:
    """The CPU seconds ``work`` takes in this process, and what it returns."""
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def encode_items(feeds: Sequence[Feed[Article]]) -> None:
    """The floor: each feed's item text through the C JSON encoder, once per format."""
    for _ in range(FORMATS):
        for feed in feeds:
            json.dumps(
                [
                    [a.title, a.url, a.excerpt, a.featured_html, a.published.isoformat()]
                    for a in feed.items
                ],
                ensure_ascii=False,
            )


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}–{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, help="a source folder (default: 20,000 articles)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    args = parser.parse_args()
    corpus = args.corpus or make_corpus(20000, Path("/tmp/feedpub-bench"), DEFAULT_SOURCE)

    config = Config(sources=(corpus,), base_url="https://example.org/feeds/")
    loaded = load_sources(config.sources, config.max_file_bytes, workers=2)
    selection = group_articles(loaded, config, NOW)
    # Loaded whole, so the selection's items are whole articles, as rendering needs.
    feeds: list[Feed[Article]] = list(selection.feeds)  # type: ignore[arg-type]
    ctx = render_context(config)
    # As a build's render workers are forked: with the loaded corpus out of the
    # collector's sight, so a full collection walking it never lands in a timing.
    gc.freeze()
    items = sum(len(f.items) for f in feeds)
    print(f"{corpus}: {len(loaded.articles)} articles, {len(feeds)} feeds, {items} items")

    renders, writes, totals, floors = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="feedpub-render-") as work:
        for number in range(args.rounds):
            out = Path(work) / str(number)
            rendering, files = timed(lambda: render_site(selection, ctx, feeds))
            writing, _ = timed(lambda: write_outputs(out, files))  # noqa: B023 (called here)
            shutil.rmtree(out)
            renders.append(rendering)
            writes.append(writing)
            totals.append(rendering + writing)
            floors.append(timed(lambda: encode_items(feeds))[0])

    print(f"render          {summary(renders)}")
    print(f"write           {summary(writes)}")
    print(f"render + write  {summary(totals)}")
    print(f"floor           {summary(floors)}  (item text through the C JSON encoder, x{FORMATS})")
    ratios = [t / f for t, f in zip(totals, floors, strict=True)]
    ratio = statistics.median(totals) / statistics.median(floors)
    print(f"ratio           {ratio:.2f}x the floor ({min(ratios):.2f}–{max(ratios):.2f} per round)")


if __name__ == "__main__":
    main()
