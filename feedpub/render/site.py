"""A whole site's files, as bytes by path: pure, no file is opened here.

Which files each feed has (``feed_files``), a digest of everything they are
made of (``feed_digest``: equal digests, equal bytes), and the rendering of
many feeds on every core when a cold build has enough of them.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .. import __version__
from ..config import Config
from ..model import Article, ArticleHead, Feed, FeedKind, Selection
from ..progress import RENDER, Progress
from . import RENDERERS, Renderer
from .context import RenderContext
from .pages import render_feed_page, render_index, render_opml
from .stylesheet import STYLESHEET_NAME, render_stylesheet, stylesheet_href

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from multiprocessing.sharedctypes import Synchronized

# Below this many feeds, starting worker processes costs more than it saves.
PARALLEL_MIN_FEEDS = 24
# Batches of feeds per worker: more than one, so progress is told as batches finish.
BATCHES_PER_WORKER = 4


def render_context(config: Config) -> RenderContext:
    """What the renderers need to know of the site: URLs, names, hubs, stylesheet."""
    return RenderContext(
        base_url=config.base_url,
        site_title=config.title,
        site_domain=config.site_domain,
        language=config.language,
        generator_version=__version__,
        hubs=config.hubs,
        stylesheet_url=stylesheet_href(config.base_url) if config.stylesheet else None,
        max_feed_bytes=config.max_feed_bytes,
    )


def _feed_prefix(feed: Feed[ArticleHead]) -> str:
    return feed.folder + "/" if feed.folder else ""


def has_page(feed: Feed[ArticleHead]) -> bool:
    """Topic and provider feeds get an HTML page; the site's is index.html, archives have none."""
    return feed.kind is not FeedKind.SITE and not feed.page


def feed_files(feed: Feed[ArticleHead]) -> list[str]:
    """The paths, below the output folder, of every file one feed is written to."""
    names = [r.filename for r in RENDERERS]
    if has_page(feed):
        names.append("index.html")
    return [_feed_prefix(feed) + name for name in names]


def feed_digest(feed: Feed[ArticleHead], ctx: RenderContext) -> str:
    """A hash of everything a feed's files are made of: equal digests, equal bytes."""
    digest = hashlib.sha1(f"{__version__}\0{ctx!r}".encode())
    digest.update(repr(replace(feed, items=())).encode("utf-8"))
    for a in feed.items:
        digest.update(
            f"{a.key}\0{a.digest}\0{a.provider!r}\0{a.updated}\0{a.link_state}"
            f"\0{a.modified}\0{a.topic_slugs}\n".encode()
        )
    return digest.hexdigest()


def subscriptions(selection: Selection) -> list[Feed[ArticleHead]]:
    """The feeds people subscribe to: every feed but the archive pages."""
    return [feed for feed in selection.feeds if not feed.page]


def render_site(
    selection: Selection,
    ctx: RenderContext,
    feeds: Sequence[Feed[Article]],
    workers: int = 1,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> dict[str, bytes]:
    """The files of ``feeds`` (whole articles) and the discovery files, keyed by path.

    The discovery files (landing page, OPML, stylesheet) list every feed of
    the selection, so they are always rendered. ``progress`` hears the feeds
    rendered so far; ``meanwhile`` is called once, while workers render.
    """
    files = render_feeds(feeds, ctx, workers, progress, meanwhile)
    listed = subscriptions(selection)
    files["index.opml"] = render_opml(listed, ctx)
    files["index.html"] = render_index(listed, ctx)
    if ctx.stylesheet_url:
        files[STYLESHEET_NAME] = render_stylesheet()
    return files


def render_feeds(
    feeds: Sequence[Feed[Article]],
    ctx: RenderContext,
    workers: int,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> dict[str, bytes]:
    """Render feeds, on every core when there are enough of them (a cold build).

    ``meanwhile`` (other work of the build) is called once: while the workers
    render, or first when there are none.
    """
    total = len(feeds)
    rendered: dict[int, dict[str, bytes]] = {}  # by index in feeds
    if workers >= 2 and total >= PARALLEL_MIN_FEEDS:
        for files in _render_forked(feeds, ctx, workers, meanwhile):
            rendered.update(files)
            if progress is not None:
                progress(RENDER, len(rendered), total)
    elif meanwhile is not None:
        meanwhile()
    # In one process; or what a worker that died left undone (a renderer's own
    # error is then raised here, with its traceback).
    for index, feed in enumerate(feeds):
        if index not in rendered:
            rendered[index] = render_feed_files(feed, ctx)
            if progress is not None:
                progress(RENDER, len(rendered), total)
    return {path: data for index in range(total) for path, data in rendered[index].items()}


def _render_forked(
    feeds: Sequence[Feed[Article]],
    ctx: RenderContext,
    workers: int,
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[dict[int, dict[str, bytes]]]:
    """The files of each batch of feeds as workers render it, by index in ``feeds``.

    The workers are forked with the feeds in memory, so nothing but the
    rendered bytes crosses a pipe (sending the feeds' articles to a pool cost
    about a third of the rendering). They take batches from a shared counter.
    """
    import multiprocessing
    from multiprocessing.connection import Connection, wait

    from ..lock import forking

    context = multiprocessing.get_context("fork")
    batches = _batches(feeds, workers)
    taken = context.Value("i", 0)  # how many batches the workers have taken
    receivers: list[Connection] = []
    processes: list[BaseProcess] = []
    finished = False
    try:
        # The parent's objects, frozen, are never walked by a worker's collector:
        # walking them would copy every page a worker shares with it.
        gc.freeze()
        with forking():
            for _ in range(min(workers, len(batches))):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(
                    target=_render_taken, args=(feeds, batches, ctx, taken, send), daemon=True
                )
                process.start()
                send.close()  # the worker holds the only other end: its exit reads as EOF
                receivers.append(receive)
                processes.append(process)
        gc.unfreeze()
        if meanwhile is not None:  # the parent's own work, while its workers render
            meanwhile()
        pending: list[Connection] = list(receivers)
        while pending:
            for ready in wait(pending):
                assert isinstance(ready, Connection)
                try:
                    yield ready.recv()
                except EOFError:  # that worker is done (or died: its batch is left undone)
                    pending.remove(ready)
        finished = True
    finally:
        gc.unfreeze()
        for receive in receivers:
            receive.close()
        for worker in processes:
            if not finished:  # the build is stopping: so are its workers
                worker.terminate()
            worker.join()


def _batches(feeds: Sequence[Feed[Article]], workers: int) -> list[list[int]]:
    """Feeds dealt out by size, largest first, so that batches take about as long;
    the first batches hold the largest feeds. Several per worker, so progress is
    told as batches finish."""
    count = min(len(feeds), workers * BATCHES_PER_WORKER)
    batches: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for index in sorted(range(len(feeds)), key=lambda i: (-len(feeds[i].items), feeds[i].folder)):
        lightest = loads.index(min(loads))
        batches[lightest].append(index)
        loads[lightest] += len(feeds[index].items) + 5
    return batches


def _render_taken(
    feeds: Sequence[Feed[Article]],
    batches: list[list[int]],
    ctx: RenderContext,
    taken: Synchronized[int],
    send: Connection,
) -> None:
    """In a worker: render the next batch no worker took, send its files, until none is left."""
    try:
        while True:
            with taken.get_lock():
                number = taken.value
                taken.value = number + 1
            if number >= len(batches):
                break
            send.send({index: render_feed_files(feeds[index], ctx) for index in batches[number]})
        send.close()
    except BaseException:  # the parent renders what is missing, and shows any error itself
        raise SystemExit(1) from None


def render_feed_files(feed: Feed[Article], ctx: RenderContext) -> dict[str, bytes]:
    """Every file of one feed: each format, and its HTML page."""
    files = {_feed_prefix(feed) + r.filename: _render_within(r, feed, ctx) for r in RENDERERS}
    if has_page(feed):
        files[_feed_prefix(feed) + "index.html"] = render_feed_page(feed, ctx)
    return files


def _render_within(renderer: Renderer, feed: Feed[Article], ctx: RenderContext) -> bytes:
    """The feed as ``renderer`` writes it, cut to the newest items that fit ``max_feed_bytes``.

    Every item is bounded when loaded, but a thousand large ones would still make a
    file no reader wants to download every few minutes.
    """
    data = renderer.render(feed, ctx)
    items = feed.items
    while len(data) > ctx.max_feed_bytes and len(items) > 1:
        keep = int(len(items) * ctx.max_feed_bytes / len(data) * 0.95)
        items = items[: max(1, min(keep, len(items) - 1))]
        data = renderer.render(feed.with_items(items), ctx)
    return data
