"""``feedpub build``: the pipeline, and its summary."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ..publish import LinkCheck, build
from ..report import BuildReport
from .common import (
    EXIT_OK,
    EXIT_REJECTED,
    deploy_options,
    link_options,
    resolve_config,
    site_options,
    timestamp,
)
from .deploy import deploy_output
from .links import print_link_summary, progress_line
from .progress import pluralize, step_line


def add_build_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = commands.add_parser("build", help="build every feed into the output folder")
    site_options(b)
    b.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: feeds)")
    b.add_argument("--base-url", metavar="URL", help="public URL the output folder is served at")
    b.add_argument("--max-items", type=int, metavar="N", help="items per feed (default: 50)")
    b.add_argument("--include-drafts", action="store_true", default=None, help="publish drafts too")
    b.add_argument(
        "--allow-shrink",
        action="store_true",
        default=None,
        help="publish even if this removes half or more of the last build's stories or feeds",
    )
    b.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run to finish (default: 0, exit 4 at once)",
    )
    b.add_argument(
        "--now",
        type=timestamp,
        metavar="TIMESTAMP",
        help="build as of this ISO 8601 instant (default: the clock); naive means UTC",
    )
    b.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    b.add_argument("--quiet", action="store_true", help="print only problems")
    b.add_argument(
        "--check-links",
        action="store_true",
        help="check every article's link first; apply the links.on_dead policy",
    )
    link_options(b)
    b.add_argument(
        "--full",
        action="store_true",
        help="group every story again, even if few files changed or none did",
    )
    b.add_argument(
        "--changed",
        action="append",
        type=Path,
        metavar="FILE",
        help="a file added, modified or deleted since the last build (repeat it; for file "
        "watchers): only these are looked at, the others are taken as the last build saw them",
    )
    b.add_argument("--deploy", action="store_true", help="then deploy the output (see deploy)")
    deploy_options(b)


def run_build(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    progress = progress_line(args.quiet) if args.check_links else None
    steps = step_line(args.quiet)
    link_check = LinkCheck(args.recheck, progress) if args.check_links else None

    def waiting(seconds: float) -> None:
        if progress is not None:  # the link check's line, drawn before the lock
            progress.clear()
        print(
            f"waiting for another feedpub run to finish (up to {seconds:g} s)…",
            file=sys.stderr,
            flush=True,
        )

    started = time.monotonic()
    try:
        report = build(
            config,
            now=args.now or datetime.now(UTC),
            wait=args.wait,
            link_check=link_check,
            ping_hubs=not args.deploy,  # with --deploy, hubs hear of a feed once it is uploaded
            progress=steps,
            on_wait=None if args.quiet else waiting,
            full=args.full,
            changed=args.changed,
        )
    finally:
        if progress is not None:
            progress.clear()
        if steps is not None:
            steps.clear()
    print_summary(report, args.quiet, time.monotonic() - started)
    deployed = deploy_output(config, args) if args.deploy else None
    if args.json:
        document = report.to_dict()
        if deployed is not None:
            document["deploy"] = deployed.to_dict()
        print(json.dumps(document, ensure_ascii=False, indent=2))
    if report.link_report is not None and not args.quiet:
        print_link_summary(report.link_report)
        print_dead_links(report)
    return EXIT_REJECTED if report.rejected else EXIT_OK


def print_summary(report: BuildReport, quiet: bool, seconds: float) -> None:
    err = sys.stderr
    for rejection in report.rejected:
        print(f"rejected: {rejection}", file=err)
    for warning in report.warnings:
        print(f"warning: {warning}", file=err)
    if quiet:
        return
    scheduled = ""
    if report.scheduled and report.next_release is not None:
        next_at = report.next_release.strftime("%Y-%m-%d %H:%M UTC")
        scheduled = f", {report.scheduled} scheduled (next at {next_at})"
    print(
        f"{pluralize(report.files_read, 'file')} read: {report.published} published{scheduled}, "
        f"{pluralize(report.drafts, 'draft')} skipped, "
        f"{pluralize(report.duplicates, 'duplicate')} merged, {len(report.rejected)} rejected",
        file=err,
    )
    what = (
        "nothing changed"
        if report.skipped
        else f"{report.rendered} rendered, {pluralize(len(report.written), 'file')} written, "
        f"{report.unchanged} unchanged, {len(report.removed)} removed"
    )
    print(f"{pluralize(report.feeds, 'feed')}: {what} in {seconds:.2f} s", file=err)
    if report.topics_from_keywords:
        gained = pluralize(report.topics_from_keywords, "article")
        print(f"{gained} gained topics from keywords", file=err)


def print_dead_links(report: BuildReport) -> None:
    for story in report.dead_links:
        print(f"{story.action}: {story.path}: {story.url}: {story.reason}", file=sys.stderr)
    print(
        f"articles with a confirmed dead link: {report.dropped_dead} dropped, "
        f"{report.flagged_dead} flagged",
        file=sys.stderr,
    )
