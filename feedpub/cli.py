"""The ``feedpub`` command: the only place that prints and picks exit codes.

Exit codes: 0 all good; 1 fatal (bad config, unreadable source; nothing
written); 2 usage; 3 feeds written but some files were rejected; 4 another
run holds the lock.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .config import Config, load_config, normalize_base_url
from .errors import ConfigError, FeedpubError, LockError
from .publish import BuildReport, build

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_LOCKED = 4

DEFAULT_CONFIG = Path("config.toml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedpub",
        description="Turn a folder of news articles into per-topic RSS, Atom and JSON feeds.",
    )
    parser.add_argument("--version", action="version", version=f"feedpub {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = commands.add_parser("build", help="build every feed into the output folder")
    b.add_argument("--config", type=Path, help="config file (default: ./config.toml if present)")
    b.add_argument(
        "--source",
        type=Path,
        action="append",
        metavar="DIR",
        help="article folder or site root holding _news/ (repeatable; replaces the config's)",
    )
    b.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: feeds)")
    b.add_argument("--state", type=Path, metavar="FILE", help="state file (cache, link results)")
    b.add_argument("--base-url", metavar="URL", help="public URL the output folder is served at")
    b.add_argument("--max-items", type=int, metavar="N", help="items per feed (default: 50)")
    b.add_argument("--include-drafts", action="store_true", default=None, help="publish drafts too")
    b.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run to finish (default: 0, exit 4 at once)",
    )
    b.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    b.add_argument("--quiet", action="store_true", help="print only problems")
    return parser


def resolve_config(args: argparse.Namespace) -> Config:
    """The config file's settings, overridden by flags; flag paths are relative to the cwd."""
    config_path: Path | None = args.config
    if config_path is None and DEFAULT_CONFIG.is_file():
        config_path = DEFAULT_CONFIG
    config = load_config(config_path) if config_path is not None else Config()
    changes: dict[str, object] = {}
    if args.source:
        changes["sources"] = tuple(p.resolve() for p in args.source)
    if args.out is not None:
        changes["out"] = args.out.resolve()
    if getattr(args, "state", None) is not None:
        changes["state"] = args.state.resolve()
    if args.base_url is not None:
        changes["base_url"] = normalize_base_url(args.base_url)
    if args.max_items is not None:
        if args.max_items < 1:
            raise ConfigError(f"--max-items must be at least 1, got {args.max_items}")
        changes["max_items"] = args.max_items
    if args.include_drafts:
        changes["include_drafts"] = True
    return replace(config, **changes)  # type: ignore[arg-type]


def _print_summary(report: BuildReport, quiet: bool, seconds: float) -> None:
    err = sys.stderr
    for rejection in report.rejected:
        print(f"rejected: {rejection}", file=err)
    for warning in report.warnings:
        print(f"warning: {warning}", file=err)
    if quiet:
        return
    print(
        f"{report.files_read} files read: {report.published} published, {report.drafts} drafts "
        f"skipped, {report.duplicates} duplicates merged, {len(report.rejected)} rejected",
        file=err,
    )
    what = (
        "nothing changed"
        if report.skipped
        else f"{report.rendered} rendered, {len(report.written)} files written, "
        f"{report.unchanged} unchanged, {len(report.removed)} removed"
    )
    print(f"{report.feeds} feeds: {what} in {seconds:.2f} s", file=err)


def run_build(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    started = time.monotonic()
    report = build(config, now=datetime.now(UTC), wait=args.wait)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    _print_summary(report, args.quiet, time.monotonic() - started)
    return EXIT_REJECTED if report.rejected else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    try:
        if args.command == "build":
            return run_build(args)
    except LockError as e:
        print(f"feedpub: {e}", file=sys.stderr)
        return EXIT_LOCKED
    except FeedpubError as e:
        print(f"feedpub: error: {e}", file=sys.stderr)
        return EXIT_FATAL
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return EXIT_USAGE  # pragma: no cover
