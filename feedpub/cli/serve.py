"""``feedpub serve`` (the preview server, ``--watch``) and ``feedpub init``."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import DEFAULT_BASE_URL, Config
from ..errors import FeedpubError, ServeError
from .common import (
    DEFAULT_CONFIG,
    DEFAULT_HOST,
    DEFAULT_PORT,
    EXIT_OK,
    EXIT_REJECTED,
    port_number,
    resolve_config,
)

if TYPE_CHECKING:
    pass


def add_serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        type=port_number,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    s.add_argument(
        "--watch", action="store_true", help="build now, then rebuild when the sources change"
    )
    # resolve_config reads the build flags; serve takes its settings from the config file.
    s.set_defaults(source=None, max_items=None, include_drafts=None, state=None)


def add_init_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def run_serve(args: argparse.Namespace) -> int:
    from ..serve import PreviewServer

    config = resolve_config(args)
    config_file = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    also = (config_file,) if config_file is not None else ()
    stop = threading.Event()
    watcher: threading.Thread | None = None
    if args.watch:
        code, watcher = _start_watching(args, config, config_file, also, stop)
        if watcher is None:
            return code
    base_url = _preview_base_url(config, from_flag=args.base_url is not None)
    try:
        server = PreviewServer(
            config.out,
            args.host,
            args.port,
            base_url=base_url,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except BaseException:
        if watcher is not None:  # stopped at once: it closes its event threads
            stop.set()
            watcher.start()
            watcher.join()
        raise
    if watcher is not None:
        watcher.start()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {args.host}: others can reach this preview server; "
            "publish with a real web server (docs/serve.md)",
            file=sys.stderr,
        )
    try:  # Ctrl-C right after the address is printed is a clean stop too
        print(f"Serving {config.out} at {server.url} (as {base_url}; Ctrl-C to stop)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        if watcher is not None:
            watcher.join(timeout=30)  # a build under way ends first
    return EXIT_OK


def _start_watching(
    args: argparse.Namespace,
    config: Config,
    config_file: Path | None,
    also: tuple[Path, ...],
    stop: threading.Event,
) -> tuple[int, threading.Thread | None]:
    """Watch the sources, build once, and return the build's exit code and the thread
    (not started) that rebuilds on changes, or None when the build failed (it said why).

    Watching starts before the first build, so a save made while it runs is not missed.
    """
    from ..watch import (
        BuildAhead,
        EventFeed,
        plan_watch,
        poll_and_build,
        snapshot_config,
        watch_and_build,
    )

    options = [*(("--config", str(config_file)) if config_file else ()), "--out", str(config.out)]
    options += ("--base-url", config.base_url) if args.base_url is not None else ()

    builder = BuildAhead(options)  # a new process per build: see feedpub/watch.py

    def rebuild(_: Config, changed: frozenset[Path] | None) -> None:
        print("sources changed: rebuilding", file=sys.stderr, flush=True)
        code = builder.run(changed)
        done = "rebuilt" if code in (EXIT_OK, EXIT_REJECTED) else f"rebuild failed ({code})"
        print(f"sources changed: {done}", file=sys.stderr, flush=True)
        if not stop.is_set():
            builder.start()  # the next build's process, ready before it is needed

    def load() -> Config:
        return resolve_config(args)

    feed: EventFeed | None = None
    try:
        feed = EventFeed(plan_watch(config, also))
    except ServeError as e:
        print(
            f"warning: {e}: checking the sources once a second instead",
            file=sys.stderr,
            flush=True,
        )
        since = snapshot_config(config, also)  # taken first: a save during the build counts
        target: Callable[[], None] = partial(
            poll_and_build,
            load,
            rebuild,
            stop,
            on_error=_print_rebuild_error,
            also_watch=also,
            since=since,
        )
    else:
        target = partial(
            watch_and_build,
            config,
            load,
            rebuild,
            stop,
            on_error=_print_rebuild_error,
            also_watch=also,
            feed=feed,
        )
    # The first build runs as a process too: this one already runs the event threads.
    code = builder.run()
    if code not in (EXIT_OK, EXIT_REJECTED):
        if feed is not None:
            feed.close()
        return code, None
    builder.start()

    def watch() -> None:
        try:
            target()
        finally:
            builder.close()

    return code, threading.Thread(target=watch, daemon=True, name="feedpub-watch")


def _preview_base_url(config: Config, *, from_flag: bool) -> str:
    """The URL the output will be served at: --base-url, else the config's, else the build's."""
    from ..servefiles import recorded_base_url

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
    from ..init import init_site

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
