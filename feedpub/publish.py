"""The pipeline: config → load → group → render → write → report.

The library prints nothing; ``build`` returns a BuildReport the CLI shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import __version__
from .config import Config
from .errors import ConfigError
from .group import group_articles
from .load import load_sources
from .model import Feed, FeedKind, Rejection, Selection
from .output import write_outputs
from .pages import render_feed_page, render_index, render_opml
from .render import RENDERERS, RenderContext
from .render.stylesheet import STYLESHEET_NAME, render_stylesheet, stylesheet_href


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
        }


def render_context(config: Config) -> RenderContext:
    return RenderContext(
        base_url=config.base_url,
        site_title=config.title,
        site_domain=config.site_domain,
        language=config.language,
        generator_version=__version__,
        stylesheet_url=stylesheet_href(config.base_url) if config.stylesheet else None,
    )


def render_site(selection: Selection, ctx: RenderContext) -> dict[str, bytes]:
    """Every output file of the site, keyed by its path below the output folder."""
    files: dict[str, bytes] = {}
    for feed in selection.feeds:
        files.update(render_feed_files(feed, ctx))
    files["index.opml"] = render_opml(selection.feeds, ctx)
    files["index.html"] = render_index(selection.feeds, ctx)
    if ctx.stylesheet_url:
        files[STYLESHEET_NAME] = render_stylesheet()
    return files


def render_feed_files(feed: Feed, ctx: RenderContext) -> dict[str, bytes]:
    prefix = feed.folder + "/" if feed.folder else ""
    files = {prefix + r.filename: r.render(feed, ctx) for r in RENDERERS}
    if feed.kind is not FeedKind.SITE:
        files[prefix + "index.html"] = render_feed_page(feed, ctx)
    return files


def build(config: Config, now: datetime) -> BuildReport:
    """Build every feed of the configured site into ``config.out``.

    ``now`` only matters for ``max_age_days``; output never holds the clock.

    Raises:
        ConfigError: no source is configured.
        SourceError: a source folder is missing or unreadable.
        OutputError: the output folder cannot be written.
    """
    if not config.sources:
        raise ConfigError("no source given: set `source` in config.toml or pass --source DIR")
    loaded = load_sources(config.sources, config.max_file_bytes)
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
    )
