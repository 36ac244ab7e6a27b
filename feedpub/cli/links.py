"""``feedpub check-links``: a report that names every problem link and the files citing it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from ..publish import LinkCheck, check_site_links
from .common import (
    EXIT_DEAD_LINKS,
    EXIT_OK,
    EXIT_REJECTED,
    link_options,
    resolve_config,
    site_options,
)
from .progress import pluralize, step_line

if TYPE_CHECKING:
    from ..links import LinkReport


def add_check_links_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = commands.add_parser(
        "check-links", help="check every article's link and store the results in the state file"
    )
    site_options(c)
    c.add_argument("--json", action="store_true", help="print every result as JSON on stdout")
    c.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="report on stdout: a table (default) or Markdown for a CI comment",
    )
    c.add_argument(
        "--verbose", action="store_true", help="list every problem link, not the first 20"
    )
    c.add_argument(
        "--fail-on-dead",
        action="store_true",
        help=f"exit {EXIT_DEAD_LINKS} when a link is confirmed dead",
    )
    link_options(c)
    c.set_defaults(out=None, base_url=None, max_items=None, include_drafts=None, quiet=False)


def run_check_links(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    progress = progress_line(quiet=False)
    steps = step_line(quiet=False)  # scanning and parsing, before the links
    try:
        loaded, report = check_site_links(config, LinkCheck(args.recheck, progress), steps)
    finally:
        if steps is not None:
            steps.clear()
        if progress is not None:
            progress.clear()
    for rejection in loaded.rejections:
        print(f"rejected: {rejection}", file=sys.stderr)
    from ..links.report import cited_by, format_markdown, format_table

    files = cited_by(loaded.articles, config.include_drafts)
    if args.json:
        print(json.dumps(report.to_dict(files), ensure_ascii=False, indent=2))
    elif args.format == "markdown":
        print(format_markdown(report, files), end="")
    else:
        print(format_table(report, files, limit=None if args.verbose else 20), end="")
    print_link_summary(report)
    if args.fail_on_dead and report.confirmed_dead:
        return EXIT_DEAD_LINKS
    return EXIT_REJECTED if loaded.rejections else EXIT_OK


def progress_line(quiet: bool) -> _ProgressLine | None:
    return _ProgressLine() if sys.stderr.isatty() and not quiet else None


def print_link_summary(report: LinkReport) -> None:
    if report.network_down is not None:
        failed, hosts = report.network_down
        print(
            f"warning: the network looks down: {failed} of {pluralize(hosts, 'host')} could not "
            "be resolved or reached; those results are kept for minutes only, and no link "
            "counts as dead",
            file=sys.stderr,
        )
    if report.unfinished:
        print(
            f"warning: the run's deadline passed with {pluralize(report.unfinished, 'link')} "
            "unchecked; the next run checks them",
            file=sys.stderr,
        )
    counts = report.counts()
    print(
        f"{pluralize(len(report.results), 'link')} ({report.cache_hits} from the cache): "
        f"{counts['alive']} alive, {counts['dead']} dead ({report.confirmed_dead} confirmed), "
        f"{counts['blocked']} blocked, {counts['unknown']} unknown, {counts['skipped']} skipped; "
        f"{pluralize(report.requests, 'request')} in {report.seconds:.1f} s",
        file=sys.stderr,
    )


class _ProgressLine:
    """A one-line counter on a terminal's stderr, redrawn in place at most 10 times a second."""

    def __init__(self) -> None:
        self.started = self.drawn = time.monotonic()

    def __call__(self, done: int, total: int, dead: int) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.1 and done < total:
            return
        self.drawn = now
        width = 24
        filled = width * done // max(total, 1)
        bar = "#" * filled + "." * (width - filled)
        rate = done / max(now - self.started, 1e-9)
        eta = f"{(total - done) / rate:.0f} s left" if rate > 0 else "?"
        print(
            f"\rchecking links [{bar}] {done}/{total}, {rate:.0f}/s, {eta}, {dead} dead\033[K",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def clear(self) -> None:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
