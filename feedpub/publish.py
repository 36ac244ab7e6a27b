"""The pipeline: lock → state → scan → load → check links → group → render → write → record.

Under cron most runs find nothing changed, so each stage skips what cannot
change the output: an unchanged set of files (same paths, sizes, mtimes,
config) skips the whole build; otherwise unchanged files come from the cache
(store/articles.py) and a feed whose digest did not change is not rendered
again (store/builds.py). Everything past the first check is imported only
when something changed (``_stages``): a cron run that finds nothing pays for
none of it. The library prints nothing; ``build`` returns a BuildReport.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from . import __version__
from .config import Config
from .errors import ConfigError, SourceError
from .lock import output_lock
from .model import ArticleHead, LoadResult
from .output import outputs_present
from .report import BuildReport, report_from_json
from .sources import Scan, load_scanned, parser_fingerprint, scan_sources
from .store import ArticleCache, State
from .store.builds import finish_build, last_build, start_build

if TYPE_CHECKING:
    from .group import DeadLinkStory
    from .links import LinkReport
    from .model import Selection

# (URLs done, URLs to check, dead so far): a link check's progress.
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True, slots=True)
class LinkCheck:
    """A build's request to check links first: ``recheck`` ignores cached results."""

    recheck: bool = False
    progress: Progress | None = None


def build(
    config: Config,
    now: datetime,
    *,
    wait: float = 0,
    workers: int | None = None,
    link_check: LinkCheck | None = None,
) -> BuildReport:
    """Build every feed of the configured site into ``config.out``.

    ``now`` only matters for ``max_age_days``; output never holds the clock.
    ``wait`` is how long to wait for another run holding the output folder.
    With ``link_check``, every article's link is checked first, and articles whose
    link is confirmed dead are dropped or flagged as ``config.links.on_dead`` says.

    Raises:
        ConfigError: no source is configured.
        SourceError: a source folder is missing or unreadable.
        StateError: the state file cannot be used.
        LockError: another run held the output folder for longer than ``wait``.
        OutputError: the output folder cannot be written.
    """
    _require_sources(config)
    with output_lock(config.out, wait), State.open(config.state) as state:
        scan = scan_sources(config.sources)
        fingerprint = _build_fingerprint(config, scan)
        if link_check is None:  # link states change with time: always look
            unchanged = _unchanged_build(config, state, fingerprint)
            if unchanged is not None:
                return unchanged
        start_build(state)
        cores = workers or os.cpu_count() or 1
        cache = ArticleCache(state, parser_fingerprint(config.max_file_bytes))
        loaded = load_scanned(
            scan, config.max_file_bytes, cache, cores, include_drafts=config.include_drafts
        )
        report = _stages(config, now, state, cache, loaded, cores, link_check)
        finish_build(state, fingerprint, report.to_json())
        return report


def _stages(
    config: Config,
    now: datetime,
    state: State,
    cache: ArticleCache,
    loaded: LoadResult[ArticleHead],
    cores: int,
    link_check: LinkCheck | None,
) -> BuildReport:
    """Check links → group → render → write → record: the part of a build that changes files."""
    from .editorial.excerpts import excerpts_of, needs_excerpts
    from .group import apply_link_policy, group_articles
    from .write import write_site

    link_report = None
    dead_links: tuple[DeadLinkStory, ...] = ()
    if link_check is not None:
        link_report = _check_links(loaded, config, state, link_check)
        results = {r.url: r for r in link_report.results}
        kept, dead_links = apply_link_policy(loaded.articles, results, config.links)
        loaded = replace(loaded, articles=kept)
    if needs_excerpts(config):  # keywords are matched in the excerpt too
        loaded = replace(loaded, excerpts=excerpts_of(loaded.articles, cache))
    selection: Selection = group_articles(loaded, config, now)
    report = write_site(config, selection, state, cache, cores)
    return replace(
        report,
        files_read=loaded.files_read,
        rejected=loaded.rejections,
        warnings=loaded.notes + selection.warnings + report.warnings,
        dropped_dead=sum(story.action == "dropped" for story in dead_links),
        flagged_dead=sum(story.action == "flagged" for story in dead_links),
        dead_links=dead_links,
        topics_from_keywords=selection.keyword_topics,
        link_report=link_report,
    )


def check_site_links(
    config: Config, link_check: LinkCheck
) -> tuple[LoadResult[ArticleHead], LinkReport]:
    """Check the link of every article of the configured site; write nothing but the state.

    Raises:
        ConfigError, SourceError, StateError: as ``build``.
    """
    _require_sources(config)
    with State.open(config.state) as state:
        cache = ArticleCache(state, parser_fingerprint(config.max_file_bytes))
        loaded = load_scanned(
            scan_sources(config.sources),
            config.max_file_bytes,
            cache,
            os.cpu_count() or 1,
            include_drafts=config.include_drafts,
        )
        return loaded, _check_links(loaded, config, state, link_check)


def _check_links(
    loaded: LoadResult[ArticleHead], config: Config, state: State, link_check: LinkCheck
) -> LinkReport:
    from .links import check_links

    return check_links(
        article_urls(loaded, config.include_drafts),
        config.links,
        state,
        fresh=link_check.recheck,
        progress=link_check.progress,
    )


def article_urls(loaded: LoadResult[ArticleHead], include_drafts: bool) -> list[str]:
    """The links a build checks: every article it may publish, each URL once, sorted."""
    return sorted({a.url for a in loaded.articles if include_drafts or not a.draft})


def _require_sources(config: Config) -> None:
    if not config.sources:
        raise ConfigError("no source given: set `source` in config.toml or pass --source DIR")
    for source in config.sources:  # fail before anything is created
        if not source.exists():
            raise SourceError(source, "source folder does not exist")


def _build_fingerprint(config: Config, scan: Scan) -> str:
    return hashlib.sha1(f"{__version__}\0{config!r}\0{scan.fingerprint()}".encode()).hexdigest()


def _unchanged_build(config: Config, state: State, fingerprint: str) -> BuildReport | None:
    """The last build's report, if nothing it depends on changed and its files are all there."""
    if config.state is None or _ages_out(config):
        return None
    last_fingerprint, last_report = last_build(state)
    if last_report is None or last_fingerprint != fingerprint:
        return None
    present = outputs_present(config.out)
    return None if present is None else report_from_json(last_report, present)


def _ages_out(config: Config) -> bool:
    """Whether feeds can change with the clock alone (items age out)."""
    policies = [*config.topics.values(), *config.providers.values()]
    return (
        config.max_age_days is not None
        or config.top_stories is not None
        or any(p.max_age_days is not None for p in policies)
        or any(f.max_age_days is not None for f in config.feeds.values())
    )
