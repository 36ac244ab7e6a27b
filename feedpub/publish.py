"""The pipeline: check links → lock → state → scan → load → group → guard → render → write → record.

Under cron most runs find nothing changed, so each stage skips what cannot
change the output: an unchanged set of files (same paths, sizes, mtimes,
config) skips the whole build; otherwise unchanged files come from the cache
(store/articles.py) and a feed whose digest did not change is not rendered
again (store/builds.py). Everything past the first check is imported only
when something changed (``_stages``): a cron run that finds nothing pays for
none of it. The library prints nothing; ``build`` returns a BuildReport.

Unattended runs stay safe: links are checked before the output lock is taken
(a slow site never holds up the next build), a damaged state file is moved
aside and the build runs cold, and a build that would wipe much of what
subscribers have is refused before anything is written (guard.py).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import __version__
from .config import Config
from .errors import ConfigError
from .lock import output_lock
from .model import ArticleHead, LoadResult
from .output import outputs_present
from .progress import GROUP
from .progress import Progress as StepProgress
from .report import BuildReport, report_from_json
from .sources.discover import Listing, Scan, check_source, list_sources, scan_listing, scan_sources
from .sources.version import parser_fingerprint
from .store import ArticleCache, State
from .store.builds import finish_build, last_build, last_report_of, start_build
from .store.published import record_stamps, stored_stamps
from .store.state import StateDamagedError, move_aside

if TYPE_CHECKING:
    from .incremental import ScanSummary, Snapshot
    from .links import LinkReport
    from .selection import DeadLinkStory

# More changed files than this (counting a change twice), and a full build is about as quick.
MAX_CHANGED_FILES = 4000
# (URLs done, URLs to check, dead so far): a link check's progress.
Progress = Callable[[int, int, int], None]
Result = TypeVar("Result")


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
    ping_hubs: bool = True,
    progress: StepProgress | None = None,
    on_wait: Callable[[float], None] | None = None,
    full: bool = False,
    changed: Sequence[Path] | None = None,
) -> BuildReport:
    """Build every feed of the configured site into ``config.out``.

    ``now`` is the build's clock: stories dated later wait (they are counted
    as scheduled), and ``max_age_days`` counts from it; output never holds it.
    ``wait`` is how long to wait for another run holding the output folder.
    With ``link_check``, every article's link is checked first, and articles whose
    link is confirmed dead are dropped or flagged as ``config.links.on_dead`` says.
    With ``ping_hubs`` false, WebSub hubs are not told of ``changed_feeds``: a
    deploy does, once they are uploaded. ``progress`` hears how the long steps
    go (scan, parse, group, render, write: see ``feedpub.progress``); ``on_wait``
    is told, with ``wait``, when another run holds the output folder and this
    one starts waiting for it. With ``full``, every story is grouped again even
    if only a few files changed (incremental.py), and a build runs even if none
    did. ``changed`` lists every file added, modified or deleted since the last
    build (a file watcher's events): only they are looked at, any other file is
    taken as the last build saw it.

    Raises:
        ConfigError: no source is configured.
        SourceError: a source folder is missing or unreadable.
        StateError: the state file cannot be written (a full or read-only disk).
        LockError: another run held the output folder for longer than ``wait``.
        ShrinkError: the build would remove much of what the last one published.
        OutputError: the output folder cannot be written.
    """
    _require_sources(config)
    links = None
    if link_check is not None:
        _, links = check_site_links(config, link_check, progress)
    with output_lock(config.out, wait, on_wait):
        report, notes = _with_state(
            config,
            lambda state: _build_locked(
                config, now, state, workers, links, ping_hubs, progress, full, changed
            ),
        )
    return replace(report, warnings=(*notes, *report.warnings)) if notes else report


def _build_locked(
    config: Config,
    now: datetime,
    state: State,
    workers: int | None,
    links: LinkReport | None,
    ping_hubs: bool = True,
    progress: StepProgress | None = None,
    full: bool = False,
    changed: Sequence[Path] | None = None,
) -> BuildReport:
    parser = parser_fingerprint(config.max_file_bytes)
    fingerprint = _build_fingerprint(config, parser)
    last_fingerprint, _ = last_build(state)
    stored = stored_stamps(state)
    listing = None
    last_record = None  # the last build's snapshot, read once if the changes need it
    if changed is not None and not full and last_fingerprint == fingerprint:
        last_record = _last_record(state)
        listing = _relisted(config, stored, last_record, changed)
    if listing is None:
        listing = list_sources(config.sources, progress)
    changes = listing.changes_since(stored, MAX_CHANGED_FILES)
    pending = None
    # Link states change with time: a build that checks them always looks. Changes
    # apply only on top of a finished build of these settings (a killed one may have
    # cached files it never published).
    if links is None and not full and changes is not None and last_fingerprint == fingerprint:
        if changes:
            from .incremental import read_changes

            pending = read_changes(config, state, changes, progress)
        if not changes or (pending is not None and pending.unchanged):
            unchanged = _unchanged_build(config, state, fingerprint, now)
            if unchanged is not None:
                if pending is not None:  # fresh files, proved unchanged
                    pending.keep_touched()
                    record_stamps(state, listing.stamps())
                return unchanged
    start_build(state)
    cores = workers or os.cpu_count() or 1
    stamps = listing.stamps()  # what the next build compares with, made while it is small
    report = None
    if pending is not None:
        from .incremental import build_changes

        report = build_changes(
            config,
            now,
            state,
            fingerprint,
            listing,
            pending,
            cores,
            ping_hubs,
            progress,
            last_record,
        )
    if report is None:
        recording = Recording(fingerprint, listing.notes, scan_listing(listing))
        del listing, changes, pending  # a build of 100,000 files: the listing's entries go
        report = _build_all(
            config, now, state, parser, cores, links, ping_hubs, progress, recording
        )
    record_stamps(state, stamps)
    finish_build(state, fingerprint, report.to_json(), str(config.out))
    return report


def _last_record(state: State) -> Snapshot | None:
    from .incremental import Snapshot
    from .store.published import snapshot

    text = snapshot(state)
    return Snapshot.from_json(text) if text else None


def _relisted(
    config: Config, stored: dict[str, bytes], record: Snapshot | None, changed: Sequence[Path]
) -> Listing | None:
    """The last listing with only the ``changed`` files looked at again, if it can be."""
    from .sources.discover import relist

    if record is None or not stored:
        return None
    return relist(config.sources, stored, record.walk_notes, changed)


def _build_all(
    config: Config,
    now: datetime,
    state: State,
    parser: str,
    cores: int,
    links: LinkReport | None,
    ping_hubs: bool,
    progress: StepProgress | None,
    recording: Recording,
) -> BuildReport:
    """Load every file (from the cache where it is unchanged) and go every stage;
    what it loads is let go when it returns."""
    from .incremental import summarize_scan
    from .sources.loader import load_scanned

    cache = ArticleCache(state, parser)
    scan = recording.files()
    loaded = load_scanned(
        scan, config.max_file_bytes, cache, cores, config.include_drafts, progress
    )
    recording.scanned = summarize_scan(scan, loaded)
    del scan  # the files' stamps: what grouping and rendering would hold on to longest
    return _stages(config, now, state, cache, loaded, cores, links, ping_hubs, progress, recording)


@dataclass(slots=True)
class Recording:
    """What a full build keeps for the next one to apply changes to (incremental.py).

    It hands its scan over once (``files``): what the record needs of it
    (``scanned``) is kept once the files are loaded, not the scan itself.
    """

    fingerprint: str
    walk_notes: tuple[tuple[str, ...], ...]  # the listing's, per source
    scan: Scan | None
    scanned: ScanSummary | None = None

    def files(self) -> Scan:
        scan, self.scan = self.scan, None
        assert scan is not None, "a recording's scan is loaded once"
        return scan


def _stages(
    config: Config,
    now: datetime,
    state: State,
    cache: ArticleCache,
    loaded: LoadResult[ArticleHead],
    cores: int,
    links: LinkReport | None,
    ping_hubs: bool = True,
    progress: StepProgress | None = None,
    recording: Recording | None = None,
) -> BuildReport:
    """Links → group → guard → render → write → record: the part of a build that changes files."""
    from .editorial.excerpts import excerpts_of, needs_excerpts
    from .group import group_with_taxonomy
    from .guard import check_shrink
    from .incremental import record_build
    from .output import last_feed_folders
    from .render.site import subscriptions
    from .selection import apply_link_policy
    from .store.published import forget_published
    from .write import write_site

    if progress is not None:
        progress(GROUP, 0, len(loaded.articles))
    dead_links: tuple[DeadLinkStory, ...] = ()
    unlinked = loaded
    if links is not None:
        results = {r.url: r for r in links.results}
        kept, dead_links = apply_link_policy(loaded.articles, results, config.links)
        loaded = replace(loaded, articles=kept)
    if needs_excerpts(config):  # keywords are matched in the excerpt too
        loaded = replace(loaded, excerpts=excerpts_of(loaded.articles, cache))
    selection, taxonomy = group_with_taxonomy(loaded, config, now)
    check_shrink(
        config,
        last_report_of(state, str(config.out)),
        last_feed_folders(config.out),
        subscriptions(selection),
        len(selection.articles),
    )

    def record() -> None:
        """What the next build applies its changes to; kept while the feeds render
        (until this build finishes, no build trusts it: see ``start_build``)."""
        if recording is None or recording.scanned is None or links is not None or not config.state:
            forget_published(state)  # (a link-checked build, or no state file): none kept
            return
        record_build(
            state,
            config,
            recording.fingerprint,
            recording.walk_notes,
            recording.scanned,
            unlinked,
            selection,
            taxonomy,
            now,
        )

    report = write_site(config, selection, state, cache, cores, now, ping_hubs, progress, record)
    return replace(
        report,
        files_read=loaded.files_read,
        rejected=loaded.rejections,
        warnings=loaded.notes + selection.warnings + report.warnings,
        dropped_dead=sum(story.action == "dropped" for story in dead_links),
        flagged_dead=sum(story.action == "flagged" for story in dead_links),
        dead_links=dead_links,
        topics_from_keywords=selection.keyword_topics,
        scheduled=selection.scheduled,
        next_release=selection.next_release,
        link_report=links,
    )


def check_site_links(
    config: Config, link_check: LinkCheck, progress: StepProgress | None = None
) -> tuple[LoadResult[ArticleHead], LinkReport]:
    """Check the link of every article of the configured site; write nothing but the state.

    ``progress`` hears the scan and the parse, as in ``build``; the link check
    itself tells ``link_check.progress``.

    Raises:
        ConfigError, SourceError, StateError: as ``build``.
    """
    from .links import check_links
    from .sources.loader import load_scanned

    _require_sources(config)

    def check(state: State) -> tuple[LoadResult[ArticleHead], LinkReport]:
        cache = ArticleCache(state, parser_fingerprint(config.max_file_bytes))
        loaded = load_scanned(
            scan_sources(config.sources, progress),
            config.max_file_bytes,
            cache,
            os.cpu_count() or 1,
            config.include_drafts,
            progress,
        )
        urls = article_urls(loaded, config.include_drafts)
        report = check_links(
            urls, config.links, state, recheck=link_check.recheck, progress=link_check.progress
        )
        return loaded, report

    (loaded, report), notes = _with_state(config, check)
    return replace(loaded, notes=(*notes, *loaded.notes)), report


def _with_state(config: Config, run: Callable[[State], Result]) -> tuple[Result, list[str]]:
    """``run`` with the state file open; once more on a new one if it proves damaged.

    Returns what ``run`` gave and the warnings of any repair.
    """
    try:
        with State.open(config.state) as state:
            return run(state), state.notes
    except StateDamagedError as e:
        if config.state is None:
            raise
        note = move_aside(config.state, e.reason)
    with State.open(config.state) as state:
        return run(state), [note, *state.notes]


def article_urls(loaded: LoadResult[ArticleHead], include_drafts: bool) -> list[str]:
    """The links a build checks: every article it may publish, each URL once, sorted."""
    return sorted({a.url for a in loaded.articles if include_drafts or not a.draft})


def _require_sources(config: Config) -> None:
    if not config.sources:
        raise ConfigError("no source given: set `source` in config.toml or pass --source DIR")
    for source in config.sources:  # fail before anything is created
        check_source(source)


def _build_fingerprint(config: Config, parser: str) -> str:
    """Changes with any setting, the version and the parser: a build made under others
    vouches for nothing (the listing of the files is compared on its own)."""
    return hashlib.sha1(f"{__version__}\0{parser}\0{config!r}".encode()).hexdigest()


def _unchanged_build(
    config: Config, state: State, fingerprint: str, now: datetime
) -> BuildReport | None:
    """The last build's report, if nothing it depends on changed and its files are all there.

    A scheduled story whose time has come is a change: the build after its
    date publishes it.
    """
    if config.state is None or config.ages_out:
        return None
    last_fingerprint, last_report = last_build(state)
    if last_report is None or last_fingerprint != fingerprint:
        return None
    report = report_from_json(last_report, 0)
    if report.next_release is not None and now >= report.next_release:
        return None
    present = outputs_present(config.out)
    return None if present is None else replace(report, unchanged=present)
