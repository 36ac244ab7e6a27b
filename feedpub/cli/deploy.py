"""``feedpub deploy`` (and ``build --deploy``): the output folder to an S3-compatible bucket."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from .common import EXIT_OK, deploy_options, resolve_config
from .progress import pluralize

if TYPE_CHECKING:
    from ..deploy import DeployReport


def add_deploy_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = commands.add_parser(
        "deploy",
        help="upload the output folder to an S3-compatible bucket, only what changed",
        description="Sync the output folder to s3://BUCKET/PREFIX (docs/deploy.md). "
        "Credentials come from the standard AWS chain. Exit 6 when the deploy fails.",
    )
    d.add_argument("--config", type=Path, help="config file (default: ./config.toml if present)")
    d.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: feeds)")
    d.add_argument("--base-url", metavar="URL", help="public URL the output folder is served at")
    d.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait for a build")
    d.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    d.add_argument("--quiet", action="store_true", help="print only problems")
    d.add_argument("--concurrency", type=int, metavar="N", help="uploads at a time (default: 8)")
    deploy_options(d)
    d.set_defaults(source=None, state=None, max_items=None, include_drafts=None, deploy=True)


def run_deploy(args: argparse.Namespace) -> int:
    deployed = deploy_output(resolve_config(args), args)
    if args.json:
        print(json.dumps(deployed.to_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK


def deploy_output(config: Config, args: argparse.Namespace) -> DeployReport:
    from ..deploy import deploy_folder

    progress = _UploadLine() if sys.stderr.isatty() and not args.quiet else None
    started = time.monotonic()
    try:
        deployed = deploy_folder(
            config.out,
            config.deploy,
            config.base_url,
            dry_run=args.dry_run,
            hubs=config.hubs,
            wait_seconds=args.wait,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.clear()
    if deployed.dry_run and not args.json:
        for path, reason in zip(deployed.uploaded, deployed.reasons, strict=True):
            print(f"upload {path} ({reason})")
        for path in deployed.headers_updated:
            print(f"update headers {path}")
        for path in deployed.deleted:
            print(f"delete {path}")
    for warning in deployed.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if deployed.dry_run and len(deployed.deleted) > config.deploy.max_deletes:
        print(
            f"warning: {pluralize(len(deployed.deleted), 'deletion')}: more than --max-deletes "
            f"{config.deploy.max_deletes}, so a real deploy would refuse",
            file=sys.stderr,
        )
    if not args.quiet:
        verb = "would upload" if deployed.dry_run else "uploaded"
        print(
            f"deploy to s3://{deployed.bucket}/{deployed.prefix}: {verb} "
            f"{len(deployed.uploaded)} (headers of {len(deployed.headers_updated)}), "
            f"{'would delete' if deployed.dry_run else 'deleted'} "
            f"{len(deployed.deleted)}, {len(deployed.unchanged)} unchanged; "
            f"{pluralize(deployed.requests, 'request')}, {deployed.bytes_sent / 1e6:.2f} MB sent "
            f"in {time.monotonic() - started:.2f} s",
            file=sys.stderr,
        )
    return deployed


class _UploadLine:
    """A deploy's upload counter on a terminal's stderr, redrawn in place."""

    def __call__(self, done: int, total: int) -> None:
        filled = 24 * done // max(total, 1)
        bar = "#" * filled + "." * (24 - filled)
        print(f"\ruploading [{bar}] {done}/{total}\033[K", end="", file=sys.stderr, flush=True)

    def clear(self) -> None:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
