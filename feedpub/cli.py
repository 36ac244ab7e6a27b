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
import json
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import DEFAULT_BASE_URL, Config, load_config, normalize_base_url, positive_seconds
from .errors import ConfigError, DeployError, FeedpubError, LockError, ShrinkError
from .publish import LinkCheck, build, check_site_links
from .report import BuildReport

if TYPE_CHECKING:
    from .deploy import DeployReport, DeploySettings
    from .links import LinkReport

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedpub",
        description="Turn a folder of news articles into per-topic RSS, Atom and JSON feeds.",
    )
    parser.add_argument("--version", action="version", version=f"feedpub {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")  # none: print help

    b = commands.add_parser("build", help="build every feed into the output folder")
    _site_options(b)
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
        type=_timestamp,
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
    _link_options(b)
    b.add_argument("--deploy", action="store_true", help="then deploy the output (see deploy)")
    _deploy_options(b)

    c = commands.add_parser(
        "check-links", help="check every article's link and store the results in the state file"
    )
    _site_options(c)
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
    _link_options(c)
    c.set_defaults(out=None, base_url=None, max_items=None, include_drafts=None, quiet=False)
    _add_serve_parser(commands)
    _add_init_parser(commands)
    _add_deploy_parser(commands)
    return parser


def _add_deploy_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    _deploy_options(d)
    d.set_defaults(source=None, state=None, max_items=None, include_drafts=None, deploy=True)


def _deploy_options(parser: argparse.ArgumentParser) -> None:
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


def _timestamp(text: str) -> datetime:
    """``--now``: an ISO 8601 instant as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from e
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _site_options(parser: argparse.ArgumentParser) -> None:
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


def _link_options(parser: argparse.ArgumentParser) -> None:
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


def _add_serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = commands.add_parser(
        "serve",
        help="preview the output folder over HTTP (127.0.0.1 only by default)",
        description="Serve the output folder with feed content types, ETag/304 and gzip, "
        "at the path of base_url. A preview, not a production server.",
    )
    s.add_argument("--config", type=Path, help="config file (default: ./config.toml if present)")
    s.add_argument("--out", type=Path, metavar="DIR", help="folder to serve (default: feeds)")
    s.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})"
    )
    s.add_argument(
        "--base-url",
        metavar="URL",
        help="public URL the folder will be served at (default: the config's, else the "
        "one the build wrote into the feeds); its path is where the folder is mounted",
    )
    s.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    s.add_argument(
        "--watch", action="store_true", help="build now, then rebuild when the sources change"
    )
    # resolve_config reads the build flags; serve takes its settings from the config file.
    s.set_defaults(source=None, max_items=None, include_drafts=None, state=None)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0: any free port), got {port}")
    return port


def _add_init_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    i = commands.add_parser(
        "init",
        help="start a new site: a commented config.toml and a first article",
        description="Write DIR/config.toml and DIR/_news/<today>-welcome.md; never overwrites.",
    )
    i.add_argument(
        "dir",
        nargs="?",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="folder for the new site, created if missing (default: the current folder)",
    )


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
    if getattr(args, "allow_shrink", None):
        changes["allow_shrink"] = True
    links = _link_changes(args)
    if links:
        changes["links"] = replace(config.links, **links)  # type: ignore[arg-type]
    if getattr(args, "deploy", False):
        changes["deploy"] = _deploy_changes(args, config)
    return replace(config, **changes)  # type: ignore[arg-type]


def _deploy_changes(args: argparse.Namespace, config: Config) -> DeploySettings:
    from .deploy.settings import normalize_prefix

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


def _print_summary(report: BuildReport, quiet: bool, seconds: float) -> None:
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
        f"{report.files_read} files read: {report.published} published{scheduled}, "
        f"{report.drafts} drafts skipped, {report.duplicates} duplicates merged, "
        f"{len(report.rejected)} rejected",
        file=err,
    )
    what = (
        "nothing changed"
        if report.skipped
        else f"{report.rendered} rendered, {len(report.written)} files written, "
        f"{report.unchanged} unchanged, {len(report.removed)} removed"
    )
    print(f"{report.feeds} feeds: {what} in {seconds:.2f} s", file=err)
    if report.topics_from_keywords:
        print(f"{report.topics_from_keywords} articles gained topics from keywords", file=err)


def _print_dead_links(report: BuildReport) -> None:
    for story in report.dead_links:
        print(f"{story.action}: {story.path}: {story.url}: {story.reason}", file=sys.stderr)
    print(
        f"articles with a confirmed dead link: {report.dropped_dead} dropped, "
        f"{report.flagged_dead} flagged",
        file=sys.stderr,
    )


def run_build(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    progress = _progress_line(args.quiet)
    link_check = LinkCheck(args.recheck, progress) if args.check_links else None
    started = time.monotonic()
    try:
        report = build(
            config,
            now=args.now or datetime.now(UTC),
            wait=args.wait,
            link_check=link_check,
            ping_hubs=not args.deploy,  # with --deploy, hubs hear of a feed once it is uploaded
        )
    finally:
        if progress is not None:
            progress.clear()
    _print_summary(report, args.quiet, time.monotonic() - started)
    deployed = _deploy(config, args) if args.deploy else None
    if args.json:
        document = report.to_dict()
        if deployed is not None:
            document["deploy"] = deployed.to_dict()
        print(json.dumps(document, ensure_ascii=False, indent=2))
    if report.link_report is not None and not args.quiet:
        _print_link_summary(report.link_report)
        _print_dead_links(report)
    return EXIT_REJECTED if report.rejected else EXIT_OK


def run_deploy(args: argparse.Namespace) -> int:
    deployed = _deploy(resolve_config(args), args)
    if args.json:
        print(json.dumps(deployed.to_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _deploy(config: Config, args: argparse.Namespace) -> DeployReport:
    from .deploy import deploy_folder

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
            f"warning: {len(deployed.deleted)} deletions: more than --max-deletes "
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
            f"{deployed.requests} requests, {deployed.bytes_sent / 1e6:.2f} MB sent "
            f"in {time.monotonic() - started:.2f} s",
            file=sys.stderr,
        )
    return deployed


def run_check_links(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    progress = _progress_line(quiet=False)
    try:
        loaded, report = check_site_links(config, LinkCheck(args.recheck, progress))
    finally:
        if progress is not None:
            progress.clear()
    for rejection in loaded.rejections:
        print(f"rejected: {rejection}", file=sys.stderr)
    from .links.report import cited_by, format_markdown, format_table

    files = cited_by(loaded.articles, config.include_drafts)
    if args.json:
        print(json.dumps(report.to_dict(files), ensure_ascii=False, indent=2))
    elif args.format == "markdown":
        print(format_markdown(report, files), end="")
    else:
        print(format_table(report, files, limit=None if args.verbose else 20), end="")
    _print_link_summary(report)
    if args.fail_on_dead and report.confirmed_dead:
        return EXIT_DEAD_LINKS
    return EXIT_REJECTED if loaded.rejections else EXIT_OK


def _progress_line(quiet: bool) -> _ProgressLine | None:
    return _ProgressLine() if sys.stderr.isatty() and not quiet else None


def _print_link_summary(report: LinkReport) -> None:
    if report.network_down is not None:
        failed, hosts = report.network_down
        print(
            f"warning: the network looks down: {failed} of {hosts} hosts could not be resolved "
            "or reached; those results are kept for minutes only, and no link counts as dead",
            file=sys.stderr,
        )
    if report.unfinished:
        print(
            f"warning: the run's deadline passed with {report.unfinished} links unchecked; "
            "the next run checks them",
            file=sys.stderr,
        )
    counts = report.counts()
    print(
        f"{len(report.results)} links ({report.cache_hits} from the cache): "
        f"{counts['alive']} alive, {counts['dead']} dead ({report.confirmed_dead} confirmed), "
        f"{counts['blocked']} blocked, {counts['unknown']} unknown, {counts['skipped']} skipped; "
        f"{report.requests} requests in {report.seconds:.1f} s",
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


class _UploadLine:
    """A deploy's upload counter on a terminal's stderr, redrawn in place."""

    def __call__(self, done: int, total: int) -> None:
        filled = 24 * done // max(total, 1)
        bar = "#" * filled + "." * (24 - filled)
        print(f"\ruploading [{bar}] {done}/{total}\033[K", end="", file=sys.stderr, flush=True)

    def clear(self) -> None:
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def run_serve(args: argparse.Namespace) -> int:
    from .serve import PreviewServer
    from .watch import build_in_process, snapshot_config, watch_and_build

    config = resolve_config(args)
    config_file = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    also = (config_file,) if config_file is not None else ()
    if args.watch:
        since = snapshot_config(config, also)  # taken first: a save during the build counts
        _print_summary(build(config, now=datetime.now(UTC)), quiet=False, seconds=0.0)
    base_url = _preview_base_url(config, from_flag=args.base_url is not None)
    server = PreviewServer(
        config.out,
        args.host,
        args.port,
        base_url=base_url,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    stop = threading.Event()
    if args.watch:
        options = [
            *(("--config", str(config_file)) if config_file else ()),
            "--out",
            str(config.out),
        ]
        options += ("--base-url", config.base_url) if args.base_url is not None else ()

        def rebuild(_: Config) -> None:
            print("sources changed: rebuilding", file=sys.stderr, flush=True)
            code = build_in_process(options)  # a new process: see feedpub/watch.py
            done = "rebuilt" if code in (EXIT_OK, EXIT_REJECTED) else f"rebuild failed ({code})"
            print(f"sources changed: {done}", file=sys.stderr, flush=True)

        watcher = threading.Thread(
            target=watch_and_build,
            args=(lambda: resolve_config(args), rebuild, stop),
            kwargs={"on_error": _print_rebuild_error, "also_watch": also, "since": since},
            daemon=True,
        )
        watcher.start()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {args.host}: others can reach this preview server; "
            "publish with a real web server (docs/serve.md)",
            file=sys.stderr,
        )
    print(f"Serving {config.out} at {server.url} (as {base_url}; Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return EXIT_OK


def _preview_base_url(config: Config, *, from_flag: bool) -> str:
    """The URL the output will be served at: --base-url, else the config's, else the build's."""
    from .servefiles import recorded_base_url

    recorded = recorded_base_url(config.out)
    if from_flag or config.base_url != DEFAULT_BASE_URL:
        if recorded is not None and recorded != config.base_url:
            print(
                f"warning: {config.out} was built for {recorded}, not {config.base_url}: "
                "rebuild, or pass the right --base-url",
                file=sys.stderr,
            )
        return config.base_url
    return recorded or config.base_url


def _print_rebuild_error(error: FeedpubError) -> None:
    print(f"feedpub: rebuild failed: {error}", file=sys.stderr, flush=True)


def run_init(args: argparse.Namespace) -> int:
    from .init import init_site

    written = init_site(args.dir, datetime.now(UTC))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    here = "" if args.dir == Path(".") else f"cd {args.dir} && "
    print(
        f"next: edit {written[0].name}, then `{here}feedpub serve --watch` "
        "and open the address it prints",
        file=sys.stderr,
    )
    return EXIT_OK


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
