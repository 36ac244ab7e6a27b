"""The pipeline: config → load → group → render → write → report.

Under cron most runs find nothing changed, so each stage skips what cannot
change the output: an unchanged set of files (same paths, sizes, mtimes,
config) skips the whole build; otherwise unchanged files come from the cache
and a feed whose items did not change is not rendered again. The library
prints nothing; ``build`` returns a BuildReport the CLI shows.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .cache import ArticleCache
from .config import Config
from .errors import ConfigError, SourceError
from .lock import output_lock
from .model import Article, Feed, FeedKind, LinkResult, LoadResult, Rejection, Selection
from .output import MANIFEST, write_outputs
from .sources import load_scanned, scan_sources
from .state import State

if TYPE_CHECKING:  # rendering is imported only when something changed: cron runs stay fast
    from .render import RenderContext

# Given the URLs of the articles to publish, their link-check results (see linkcheck.py).
LinkLookup = Callable[[Sequence[str]], Mapping[str, LinkResult]]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did. ``files_read`` = published + drafts + duplicates + rejected."""

    files_read: int
    published: int
    drafts: int
    duplicates: int
    rejected: tuple[Rejection, ...]
    warnings: tuple[str, ...]
    feeds: int
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]
    rendered: int = 0  # feeds rendered; the others were unchanged and skipped
    skipped: bool = False  # nothing changed since the last build: nothing was done
    dropped_dead: int = 0  # left out: link confirmed dead (on_dead = "drop")
    flagged_dead: int = 0  # published with a dead-link mark (on_dead = "flag")
    changed_feeds: tuple[str, ...] = ()  # URLs of the subscription feeds written: for WebSub

    def to_dict(self) -> dict[str, object]:
        return {
            "files_read": self.files_read,
            "published": self.published,
            "drafts": self.drafts,
            "duplicates": self.duplicates,
            "rejected": [
                {"path": r.path, "line": r.line, "reason": r.reason} for r in self.rejected
            ],
            "warnings": list(self.warnings),
            "feeds": self.feeds,
            "feeds_rendered": self.rendered,
            "files_written": list(self.written),
            "files_unchanged": self.unchanged,
            "files_removed": list(self.removed),
            "nothing_changed": self.skipped,
            "dropped_dead": self.dropped_dead,
            "flagged_dead": self.flagged_dead,
            "changed_feeds": list(self.changed_feeds),
        }


def _report_from_json(text: str, unchanged: int) -> BuildReport:
    data = json.loads(text)
    return BuildReport(
        files_read=data["files_read"],
        published=data["published"],
        drafts=data["drafts"],
        duplicates=data["duplicates"],
        rejected=tuple(Rejection(r["path"], r["reason"], r["line"]) for r in data["rejected"]),
        warnings=tuple(data["warnings"]),
        feeds=data["feeds"],
        dropped_dead=data.get("dropped_dead", 0),
        flagged_dead=data.get("flagged_dead", 0),
        written=(),
        unchanged=unchanged,
        removed=(),
        rendered=0,
        skipped=True,
    )


def _feed_prefix(feed: Feed) -> str:
    return feed.folder + "/" if feed.folder else ""


def feed_files(feed: Feed) -> list[str]:
    """The paths, below the output folder, of every file one feed is written to."""
    from .render import RENDERERS

    names = [r.filename for r in RENDERERS]
    if _has_page(feed):
        names.append("index.html")
    return [_feed_prefix(feed) + name for name in names]


def _has_page(feed: Feed) -> bool:
    """Topic and provider feeds get an HTML page; the site's is index.html, archives have none."""
    return feed.kind is not FeedKind.SITE and not feed.page


def feed_digest(feed: Feed, context: str) -> str:
    """A hash of everything a feed's files are made of: equal digests, equal bytes."""
    digest = hashlib.sha1(context.encode("utf-8"))
    digest.update(repr(replace(feed, items=())).encode("utf-8"))
    for a in feed.items:
        digest.update(
            f"{a.key}\0{a.digest}\0{a.provider!r}\0{a.updated}\0{a.link_state}\n".encode()
        )
    return digest.hexdigest()


def _build_fingerprint(config: Config, scan_fingerprint: str) -> str:
    return hashlib.sha1(f"{__version__}\0{config!r}\0{scan_fingerprint}".encode()).hexdigest()


def _ages_out(config: Config) -> bool:
    """Whether feeds can change with the clock alone (items age out)."""
    policies = [*config.topics.values(), *config.providers.values()]
    return config.max_age_days is not None or any(p.max_age_days is not None for p in policies)


def _outputs_present(out: Path) -> int | None:
    """How many files the last build wrote, if every one of them is still there."""
    try:
        names = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(names, list) or not all(
        isinstance(n, str) and os.path.isfile(out / n) for n in names
    ):
        return None
    return len(names)


def build(
    config: Config,
    now: datetime,
    *,
    wait: float = 0,
    workers: int | None = None,
    links: LinkLookup | None = None,
    ping_hubs: bool = True,
) -> BuildReport:
    """Build every feed of the configured site into ``config.out``.

    ``now`` only matters for ``max_age_days``; output never holds the clock.
    ``wait`` is how long to wait for another run holding the output folder.
    With ``links``, articles whose link is confirmed dead are dropped or
    flagged as ``config.links.on_dead`` says, before grouping. With ``ping_hubs``
    false, WebSub hubs are not told of ``changed_feeds``: a deploy does, once uploaded.

    Raises:
        ConfigError: no source is configured, or the state file is unusable.
        SourceError: a source folder is missing or unreadable.
        LockError: another run held the output folder for longer than ``wait``.
        OutputError: the output folder cannot be written.
    """
    if not config.sources:
        raise ConfigError("no source given: set `source` in config.toml or pass --source DIR")
    for source in config.sources:  # fail before anything is created
        if not source.exists():
            raise SourceError(source, "source folder does not exist")
    with output_lock(config.out, wait), State.open(config.state) as state:
        last_fingerprint, last_report = state.get_meta("fingerprint"), state.get_meta("report")
        scan = scan_sources(config.sources)
        fingerprint = _build_fingerprint(config, scan.fingerprint())
        if (
            config.state is not None
            and links is None  # link states change with time: always look
            and not _ages_out(config)
            and last_report is not None
            and last_fingerprint == fingerprint
        ):
            present = _outputs_present(config.out)
            if present is not None:
                return _report_from_json(last_report, present)

        from .group import group_articles

        # From here the output may change: until this build finishes, no earlier
        # build's fingerprint may vouch for it (a killed run must not be skipped over).
        state.set_meta({"fingerprint": ""})
        cache = ArticleCache(state, config.max_file_bytes)
        cores = workers or os.cpu_count() or 1
        loaded = load_scanned(
            scan, config.max_file_bytes, cache, cores, include_drafts=config.include_drafts
        )
        loaded, dropped_dead, flagged_dead = _apply_links(loaded, config, links)
        selection = group_articles(loaded, config, now)
        report = _render_and_write(config, selection, state, cache, cores, ping_hubs)
        report = replace(
            report,
            dropped_dead=dropped_dead,
            flagged_dead=flagged_dead,
            files_read=loaded.files_read,
            rejected=loaded.rejections,
            warnings=loaded.notes + selection.warnings + report.warnings,
        )
        state.set_meta({"fingerprint": fingerprint, "report": json.dumps(report.to_dict())})
        return report


def render_context(config: Config) -> RenderContext:
    """What the renderers need to know of the site: URLs, names, hubs, stylesheet."""
    from .render import RenderContext
    from .render.stylesheet import stylesheet_href

    return RenderContext(
        base_url=config.base_url,
        site_title=config.title,
        site_domain=config.site_domain,
        language=config.language,
        generator_version=__version__,
        hubs=config.hubs,
        stylesheet_url=stylesheet_href(config.base_url) if config.stylesheet else None,
    )


def render_site(
    selection: Selection,
    ctx: RenderContext,
    feeds: Sequence[Feed] | None = None,
    workers: int = 1,
) -> dict[str, bytes]:
    """The output files of a selection, keyed by path: pure.

    ``feeds`` (with whole articles) limits which feeds are rendered; the
    discovery files, which list every feed, always are.
    """
    from .pages import render_index, render_opml

    files = render_feeds(selection.feeds if feeds is None else feeds, ctx, workers)
    subscriptions = [feed for feed in selection.feeds if not feed.page]
    files["index.opml"] = render_opml(subscriptions, ctx)
    files["index.html"] = render_index(subscriptions, ctx)
    if ctx.stylesheet_url:
        from .render.stylesheet import STYLESHEET_NAME, render_stylesheet

        files[STYLESHEET_NAME] = render_stylesheet()
    return files


def _render_and_write(
    config: Config,
    selection: Selection,
    state: State,
    cache: ArticleCache,
    workers: int,
    ping_hubs: bool = True,
) -> BuildReport:
    ctx = render_context(config)
    context = f"{__version__}\0{ctx!r}"
    stored = dict(state.connection.execute("SELECT folder, digest FROM feeds").fetchall())
    digests = {feed.folder: feed_digest(feed, context) for feed in selection.feeds}
    changed: list[Feed] = []
    kept: list[str] = []
    for feed in selection.feeds:
        paths = feed_files(feed)
        if stored.get(feed.folder) == digests[feed.folder] and all(
            os.path.isfile(config.out / p) for p in paths
        ):
            kept.extend(paths)
        else:
            changed.append(feed)

    full = _full_articles(cache, (a for feed in changed for a in feed.items))
    whole = [replace(f, items=tuple(full.get(a.path, a) for a in f.items)) for f in changed]
    files = render_site(selection, ctx, whole, workers)
    subscriptions = [feed for feed in selection.feeds if not feed.page]
    # A feed's old digest is forgotten before its files are touched, so a run
    # killed while writing leaves it to be rendered again, never trusted.
    with state.transaction() as db:
        db.executemany("DELETE FROM feeds WHERE folder = ?", [(f.folder,) for f in changed])
    result = write_outputs(config.out, files, keep=kept)

    # Digests are recorded only once the files they vouch for are in place.
    with state.transaction() as db:
        db.execute("DELETE FROM feeds")
        db.executemany("INSERT INTO feeds VALUES (?, ?)", sorted(digests.items()))
    warnings: tuple[str, ...] = ()
    written = set(result.written)
    changed_urls = [
        ctx.file_url(feed, name.rsplit("/", 1)[-1])
        for feed in subscriptions
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
        feeds=len(subscriptions),
        written=result.written,
        unchanged=len(result.unchanged) + len(kept),
        removed=result.removed,
        rendered=len(changed),
        changed_feeds=tuple(changed_urls),
    )


def _full_articles(cache: ArticleCache, articles: Iterable[Article]) -> Mapping[str, Article]:
    """The articles with their payload (excerpt, HTML, images, related) from the cache."""
    return cache.hydrate(articles)


# Below this many feeds, starting worker processes costs more than it saves.
PARALLEL_MIN_FEEDS = 24


def render_feeds(feeds: Sequence[Feed], ctx: RenderContext, workers: int) -> dict[str, bytes]:
    """Render feeds, on every core when there are enough of them (a cold build)."""
    if workers < 2 or len(feeds) < PARALLEL_MIN_FEEDS:
        return _render_many(list(feeds), ctx)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Deal feeds out by size, largest first, so the workers finish together.
    shares: list[list[Feed]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for feed in sorted(feeds, key=lambda f: (-len(f.items), f.folder)):
        lightest = loads.index(min(loads))
        shares[lightest].append(feed)
        loads[lightest] += len(feed.items) + 5
    files: dict[str, bytes] = {}
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for rendered in pool.map(_render_many, shares, [ctx] * workers):
            files.update(rendered)
    return files


def _render_many(feeds: list[Feed], ctx: RenderContext) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for feed in feeds:
        files.update(render_feed_files(feed, ctx))
    return files


def render_feed_files(feed: Feed, ctx: RenderContext) -> dict[str, bytes]:
    """Every file of one feed: each format, and its HTML page."""
    from .pages import render_feed_page
    from .render import RENDERERS

    files = {_feed_prefix(feed) + r.filename: r.render(feed, ctx) for r in RENDERERS}
    if _has_page(feed):
        files[_feed_prefix(feed) + "index.html"] = render_feed_page(feed, ctx)
    return files


def _apply_links(
    loaded: LoadResult, config: Config, links: LinkLookup | None
) -> tuple[LoadResult, int, int]:
    """The link policy, between load and group; nothing happens without ``links``."""
    if links is None:
        return loaded, 0, 0
    from .group import apply_link_policy

    results = links(article_urls(loaded, config.include_drafts))
    articles, dropped, flagged = apply_link_policy(loaded.articles, results, config.links)
    return replace(loaded, articles=articles), dropped, flagged


def article_urls(loaded: LoadResult, include_drafts: bool) -> list[str]:
    """The links a build checks: every article it may publish, each URL once, sorted."""
    return sorted({a.url for a in loaded.articles if include_drafts or not a.draft})
