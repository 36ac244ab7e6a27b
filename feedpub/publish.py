"""The pipeline: config → load → group → render → write → report.

The library prints nothing; ``build`` returns a BuildReport the CLI shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from . import __version__
from .config import Config
from .errors import ConfigError
from .group import apply_link_policy, group_articles
from .load import load_sources
from .model import Feed, FeedKind, LinkResult, LoadResult, Rejection, Selection
from .output import write_outputs
from .pages import render_feed_page, render_index, render_opml
from .render import RENDERERS, RenderContext

# Given the URLs of the articles to publish, their link-check results (see linkcheck.py).
LinkLookup = Callable[[Sequence[str]], Mapping[str, LinkResult]]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did.

    ``files_read`` = published + drafts + duplicates + rejected + dropped_dead.
    """

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
    dropped_dead: int = 0  # left out: link confirmed dead (on_dead = "drop")
    flagged_dead: int = 0  # published with a dead-link mark (on_dead = "flag")

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
            "files_written": list(self.written),
            "files_unchanged": self.unchanged,
            "files_removed": list(self.removed),
            "dropped_dead": self.dropped_dead,
            "flagged_dead": self.flagged_dead,
        }


def render_context(config: Config) -> RenderContext:
    return RenderContext(
        base_url=config.base_url,
        site_title=config.title,
        site_domain=config.site_domain,
        language=config.language,
        generator_version=__version__,
    )


def render_site(selection: Selection, ctx: RenderContext) -> dict[str, bytes]:
    """Every output file of the site, keyed by its path below the output folder."""
    files: dict[str, bytes] = {}
    for feed in selection.feeds:
        files.update(render_feed_files(feed, ctx))
    files["index.opml"] = render_opml(selection.feeds, ctx)
    files["index.html"] = render_index(selection.feeds, ctx)
    return files


def render_feed_files(feed: Feed, ctx: RenderContext) -> dict[str, bytes]:
    prefix = feed.folder + "/" if feed.folder else ""
    files = {prefix + r.filename: r.render(feed, ctx) for r in RENDERERS}
    if feed.kind is not FeedKind.SITE:
        files[prefix + "index.html"] = render_feed_page(feed, ctx)
    return files


def build(config: Config, now: datetime, links: LinkLookup | None = None) -> BuildReport:
    """Build every feed of the configured site into ``config.out``.

    ``now`` only matters for ``max_age_days``; output never holds the clock.
    With ``links``, articles whose link is confirmed dead are dropped or
    flagged as ``config.links.on_dead`` says, before grouping.

    Raises:
        ConfigError: no source is configured.
        SourceError: a source folder is missing or unreadable.
        OutputError: the output folder cannot be written.
    """
    if not config.sources:
        raise ConfigError("no source given: set `source` in config.toml or pass --source DIR")
    loaded = load_sources(config.sources, config.max_file_bytes)
    loaded, dropped_dead, flagged_dead = _apply_links(loaded, config, links)
    selection = group_articles(loaded, config, now)
    files = render_site(selection, render_context(config))
    result = write_outputs(config.out, files)
    return BuildReport(
        files_read=loaded.files_read,
        published=len(selection.articles),
        drafts=selection.drafts,
        duplicates=selection.duplicates,
        rejected=loaded.rejections,
        warnings=loaded.notes + selection.warnings,
        feeds=len(selection.feeds),
        written=result.written,
        unchanged=len(result.unchanged),
        removed=result.removed,
        dropped_dead=dropped_dead,
        flagged_dead=flagged_dead,
    )


def _apply_links(
    loaded: LoadResult, config: Config, links: LinkLookup | None
) -> tuple[LoadResult, int, int]:
    """The link policy, between load and group; nothing happens without ``links``."""
    if links is None:
        return loaded, 0, 0
    results = links(article_urls(loaded, config.include_drafts))
    articles, dropped, flagged = apply_link_policy(loaded.articles, results, config.links)
    return replace(loaded, articles=articles), dropped, flagged


def article_urls(loaded: LoadResult, include_drafts: bool) -> list[str]:
    """The links a build checks: every article it may publish, each URL once, sorted."""
    return sorted({a.url for a in loaded.articles if include_drafts or not a.draft})
