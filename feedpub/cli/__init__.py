"""The ``feedpub`` command: the only place that prints and picks exit codes.

Exit codes: 0 all good; 1 fatal (bad config, unreadable source; nothing
written); 2 usage; 3 feeds written (or links checked) but some files were
rejected; 4 another run holds the lock; 5 (check-links --fail-on-dead) a link is
confirmed dead; 6 a deploy failed or was refused (files already uploaded stay
whole; the next deploy carries on); 7 the shrink guard refused the build
(nothing written); 128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129
SIGHUP), no file left half-written.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import DeployError, FeedpubError, LockError, ShrinkError
from .build import add_build_parser, run_build
from .common import (
    EXIT_DEAD_LINKS,
    EXIT_DEPLOY,
    EXIT_FATAL,
    EXIT_LOCKED,
    EXIT_SHRINK,
    EXIT_SIGNAL,
    EXIT_USAGE,
)
from .deploy import add_deploy_parser, run_deploy
from .links import add_check_links_parser, run_check_links
from .serve import add_init_parser, add_serve_parser, run_init, run_serve

__all__ = ["EXIT_DEAD_LINKS", "EXIT_DEPLOY", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedpub",
        description="Turn a folder of news articles into per-topic RSS, Atom and JSON feeds.",
    )
    parser.add_argument("--version", action="version", version=f"feedpub {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")  # none: print help

    add_build_parser(commands)
    add_check_links_parser(commands)
    add_serve_parser(commands)
    add_init_parser(commands)
    add_deploy_parser(commands)
    return parser


class _StopSignal(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    raise _StopSignal(signum)


def _stopped(signum: int) -> int:
    name = signal.Signals(signum).name
    print(
        f"feedpub: stopped by {name}; no file was left half-written (each is as the last "
        "complete build, or this one, wrote it)",
        file=sys.stderr,
    )
    return EXIT_SIGNAL + signum


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command in ("build", "check-links"):
        # A build makes a few objects per article (hundreds of thousands at 100k) and
        # keeps them to the end; with the default thresholds the cyclic collector walks
        # them all again and again for nothing (~15% of an incremental build). Young
        # cycles are still collected; the process exits soon after.
        gc.set_threshold(50_000, 20, 100)
        # A stop by cron's timeout or systemd ends like Ctrl-C: one line, no traceback.
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGHUP, _stop)
    try:
        if args.command == "build":
            return run_build(args)
        if args.command == "check-links":
            return run_check_links(args)
        if args.command == "serve":
            return run_serve(args)
        if args.command == "init":
            return run_init(args)
        if args.command == "deploy":
            return run_deploy(args)
    except LockError as e:
        print(f"feedpub: {e}", file=sys.stderr)
        return EXIT_LOCKED
    except DeployError as e:
        print(f"feedpub: deploy failed: {e}", file=sys.stderr)
        return EXIT_DEPLOY
    except ShrinkError as e:
        print(f"feedpub: {e}", file=sys.stderr)
        return EXIT_SHRINK
    except KeyboardInterrupt:
        return _stopped(signal.SIGINT)
    except _StopSignal as e:
        return _stopped(e.signum)
    except FeedpubError as e:
        print(f"feedpub: error: {e}", file=sys.stderr)
        return EXIT_FATAL
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return EXIT_USAGE  # pragma: no cover
