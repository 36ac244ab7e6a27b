"""What every command shares: exit codes, site options, the config with flags applied."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..baseurl import normalize_base_url
from ..config import Config, load_config, positive_seconds
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..deploy import DeploySettings


# Link checking, serving and scaffolding are imported by their commands only: a cron
# build that finds nothing changed should not pay for httpx, asyncio or http.server.
DEFAULT_HOST = "127.0.0.1"


DEFAULT_PORT = 8000


EXIT_OK = 0


EXIT_FATAL = 1


EXIT_USAGE = 2


EXIT_REJECTED = 3


EXIT_LOCKED = 4


EXIT_DEAD_LINKS = 5


EXIT_DEPLOY = 6


EXIT_SHRINK = 7


EXIT_SIGNAL = 128  # + the signal's number


DEFAULT_CONFIG = Path("config.toml")


def site_options(parser: argparse.ArgumentParser) -> None:
    """--config, --source and --state: where a site's articles and state are."""
    parser.add_argument(
        "--config", type=Path, help="config file (default: ./config.toml if present)"
    )
    parser.add_argument(
        "--source",
        type=Path,
        action="append",
        metavar="DIR",
        help="article folder or site root holding _news/ (repeatable; replaces the config's)",
    )
    parser.add_argument(
        "--state", type=Path, metavar="FILE", help="state file (cache, link results)"
    )


def link_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="seconds per request attempt (default: 10)"
    )
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="requests at a time (default: 32)"
    )
    parser.add_argument(
        "--per-host", type=int, metavar="N", help="requests at a time to one host (default: 4)"
    )
    parser.add_argument(
        "--url-deadline",
        type=float,
        metavar="S",
        help="seconds one link may take, retries and redirects included (default: 45)",
    )
    parser.add_argument(
        "--run-deadline",
        type=float,
        metavar="S",
        help="seconds all link checks may take; the rest wait for the next run (default: 900)",
    )
    parser.add_argument(
        "--fresh",
        dest="recheck",
        action="store_true",
        help="check every link again, ignoring cached results",
    )
    parser.add_argument(
        "--allow-private",
        action="store_true",
        default=None,
        help="also check links to loopback, private and link-local addresses",
    )


def deploy_options(parser: argparse.ArgumentParser) -> None:
    """Where to deploy; each overrides its key in config.toml's [deploy] table."""
    parser.add_argument("--bucket", help="bucket name")
    parser.add_argument("--prefix", metavar="PATH", help="key prefix (folder) in the bucket")
    parser.add_argument("--endpoint-url", metavar="URL", help="S3-compatible endpoint")
    parser.add_argument("--region", help="bucket region")
    parser.add_argument(
        "--path-style", action="store_true", default=None, help="path-style addressing"
    )
    parser.add_argument("--profile", help="AWS profile of the shared config files")
    parser.add_argument("--max-deletes", type=int, metavar="N", help="refuse above (default 256)")
    parser.add_argument("--dry-run", action="store_true", help="print the deploy plan only")


def timestamp(text: str) -> datetime:
    """``--now``: an ISO 8601 instant as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from e
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0: any free port), got {port}")
    return port


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
        changes["base_url"] = normalize_base_url(args.base_url, "--base-url")
    if args.max_items is not None:
        if args.max_items < 1:
            raise ConfigError(f"--max-items must be at least 1, got {args.max_items}")
        changes["max_items"] = args.max_items
    if args.include_drafts:
        changes["include_drafts"] = True
    if getattr(args, "allow_shrink", None):
        changes["allow_shrink"] = True
    links = _link_changes(args)
    if links:
        changes["links"] = replace(config.links, **links)  # type: ignore[arg-type]
    if getattr(args, "deploy", False):
        changes["deploy"] = deploy_changes(args, config)
    return replace(config, **changes)  # type: ignore[arg-type]


def deploy_changes(args: argparse.Namespace, config: Config) -> DeploySettings:
    from ..deploy.settings import normalize_prefix

    changes: dict[str, object] = {
        key: getattr(args, key)
        for key in ("bucket", "endpoint_url", "region", "path_style", "profile", "max_deletes")
        if getattr(args, key) is not None
    }
    if args.prefix is not None:
        changes["prefix"] = normalize_prefix(args.prefix)
    if args.max_deletes is not None and args.max_deletes < 0:
        raise ConfigError(f"--max-deletes must be at least 0, got {args.max_deletes}")
    if args.command == "deploy" and args.concurrency is not None:
        if args.concurrency < 1:
            raise ConfigError(f"--concurrency must be at least 1, got {args.concurrency}")
        changes["concurrency"] = args.concurrency
    return replace(config.deploy, **changes)  # type: ignore[arg-type]


def _link_changes(args: argparse.Namespace) -> dict[str, object]:
    changes: dict[str, object] = {}
    for flag in ("timeout", "url_deadline", "run_deadline"):
        if getattr(args, flag, None) is not None:
            where = f"--{flag.replace('_', '-')}"
            changes[flag] = positive_seconds(getattr(args, flag), where)
    for flag in ("concurrency", "per_host"):
        value = getattr(args, flag, None)
        if value is not None:
            if value < 1:
                raise ConfigError(f"--{flag.replace('_', '-')} must be at least 1, got {value}")
            changes[flag] = value
    if getattr(args, "allow_private", None):
        changes["allow_private"] = True
    return changes
