"""The write stage: render the feeds that changed, write them, record what was written.

A feed is rendered only when its digest differs from the last build's or one
of its files is missing; the discovery files are always rendered (they are
cheap, and list every feed). Writing is atomic and skips unchanged bytes
(output.py). WebSub hubs hear of every feed file that was rewritten.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from .config import Config
from .model import Article, ArticleHead, Feed, Selection
from .output import signals_deferred, write_outputs
from .progress import RENDER, WRITE, Progress
from .render.site import feed_digest, feed_files, render_context, render_site, subscriptions
from .report import BuildReport
from .store import ArticleCache, State
from .store.builds import feed_digests, forget_feeds, record_feeds
from .store.changes import record_changes


def write_site(
    config: Config,
    selection: Selection,
    state: State,
    cache: ArticleCache,
    workers: int,
    now: datetime,
    ping_hubs: bool = True,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> BuildReport:
    """Bring ``config.out`` up to date with ``selection``; the report's counts of files.

    ``now`` dates the edits found in the stories rendered (store/changes.py). With
    ``ping_hubs`` false the hubs are not told: a deploy does, after its uploads.
    ``progress`` hears the feeds rendered, then the files to write. ``meanwhile``
    is called once, before anything is written: while the feeds are rendered.
    """
    ctx = render_context(config)
    digests = {feed.folder: feed_digest(feed, ctx) for feed in selection.feeds}
    changed, kept = _changed_feeds(config, selection, digests, feed_digests(state))
    if progress is not None:
        progress(RENDER, 0, len(changed))
    feeds = _whole_feeds(changed, state, cache, now)
    files = render_site(selection, ctx, feeds, workers, progress, meanwhile)
    if progress is not None:
        progress(WRITE, 0, len(files))
    with signals_deferred():  # Ctrl-C or SIGTERM: after the write, never halfway
        forget_feeds(state, (f.folder for f in changed))
        result = write_outputs(config.out, files, keep=kept)
        record_feeds(state, digests)

    listed = subscriptions(selection)
    warnings: tuple[str, ...] = ()
    written = set(result.written)
    changed_urls = [  # the feed documents rewritten: what WebSub hubs hear of
        ctx.file_url(feed, name.rsplit("/", 1)[-1])
        for feed in listed
        for name in feed_files(feed)
        if name in written and not name.endswith(".html")
    ]
    if config.hubs and ping_hubs:
        from .websub import ping_hubs as ping

        warnings = tuple(ping(config.hubs, changed_urls))
    return BuildReport(
        files_read=0,
        published=len(selection.articles),
        drafts=selection.drafts,
        duplicates=selection.duplicates,
        rejected=(),
        warnings=warnings,
        feeds=len(listed),
        written=result.written,
        unchanged=len(result.unchanged) + len(kept),
        removed=result.removed,
        rendered=len(changed),
        changed_feeds=tuple(changed_urls),
    )


def _changed_feeds(
    config: Config,
    selection: Selection,
    digests: dict[str, str],
    stored: dict[str, str],
) -> tuple[list[Feed[ArticleHead]], list[str]]:
    """The feeds to render (digest changed, or a file missing), and the files of the others."""
    changed: list[Feed[ArticleHead]] = []
    kept: list[str] = []
    for feed in selection.feeds:
        paths = feed_files(feed)
        if stored.get(feed.folder) == digests[feed.folder] and all(
            os.path.isfile(config.out / p) for p in paths
        ):
            kept.extend(paths)
        else:
            changed.append(feed)
    return changed, kept


def _whole_feeds(
    changed: list[Feed[ArticleHead]], state: State, cache: ArticleCache, now: datetime
) -> list[Feed[Article]]:
    """The changed feeds with whole articles, each dated by its last edit."""
    whole = cache.bodies(a for feed in changed for a in feed.items)
    edited = record_changes(state, whole.values(), now)
    whole = {
        path: replace(a, modified=edited[a.key]) if a.key in edited else a
        for path, a in whole.items()
    }
    return [f.with_items(tuple(whole[a.path] for a in f.items)) for f in changed]
