"""Incremental builds: a few changed files applied to what the last build published.

Most cron builds of a big site find a handful of files changed. Regrouping
every story for them costs time in proportion to the site; here the change
is applied to the last build's record instead (store/published.py): each
changed file is read, its old and new story compared, the record's indexes
updated, and only the feeds the change touches selected again, newest first,
straight off an index. Every other feed keeps its items.

The feeds come out exactly as a full build of the same files makes them, or
not at all: a change whose effect reaches beyond the feeds of its stories (a
new topic or provider, or the last story of one gone; a story merged with
another or sharing its date; a name or logo the taxonomy would now pick
differently; a scheduled story; a rejected file...) makes ``build_changes``
return None before anything is written, and the build goes the full way. So
do settings whose feeds depend on the whole site or on the clock (keyword
topics, custom and top-stories feeds, archives, age limits).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple, TypedDict

from .config import Config
from .group import feed_limits, resolved
from .instants import from_micros, micros
from .model import (
    ArticleHead,
    Feed,
    FeedKind,
    FileOutcome,
    LoadResult,
    Provider,
    Rejection,
    Selection,
    Topic,
)
from .progress import PARSE, Progress
from .report import BuildReport
from .selection import SCHEDULE_GRACE, canonical_url
from .sources import SourceFile, load_file, parser_fingerprint
from .sources.discover import Listing, ListingChanges, Scan
from .store import ArticleCache, State
from .store.articles import ArticleRow
from .store.published import (
    Conflict,
    PublishedRow,
    apply_changes,
    merged_with,
    newest,
    published_rows,
    record_published,
    redate,
    save_snapshot,
    snapshot,
)
from .taxonomy import Taxonomy, most_common, normalize_name, provider_identity


class FeedRecord(TypedDict):
    """One feed of the last build, as its snapshot keeps it."""

    kind: str
    key: str
    folder: str
    title: str
    description: str
    icon: str | None
    logo: str | None
    total: int
    max_items: int
    min_quality: int | None
    items: list[tuple[str, int | None]]  # path, and ``updated`` (µs) when it differs


@dataclass
class Snapshot:
    """What the last build published, beyond the stories' rows: its feeds, taxonomy and counts."""

    config: str  # settings, version and parser the record was made under
    files_read: int
    published: int
    drafts: int
    duplicates: int
    scheduled: int
    next_release: int | None  # µs
    walk_notes: list[list[str]]  # per source, as the listing had them
    scan_notes: list[str]
    file_notes: list[tuple[int, str, str]]  # source, display, note: in the report's order
    rejections: list[tuple[int, str, str, int | None]]  # source, display, reason, line
    selection_warnings: list[str]
    topics: dict[
        str, list[str]
    ]  # a topic name (each spelling and its norm) → slug, name, description
    topic_counts: dict[str, dict[str, int]]  # norm → spelling → stories
    known_topics: dict[str, str]  # norm → name, for taxonomy entries with a slug
    providers: dict[str, list[str | None]]  # identity → name, key, logo
    provider_counts: dict[str, dict[str, int]]  # identity → name → stories
    organizations: dict[str, list[str | None]]  # identity → name, logo
    feeds: list[FeedRecord] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Snapshot | None:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return None  # another version's: the build goes the full way

    def taxonomy(self) -> Taxonomy:
        return Taxonomy(
            {name: Topic(e[0], e[1], e[2]) for name, e in self.topics.items()},
            {
                identity: Provider(str(name), str(key), logo)
                for identity, (name, key, logo) in self.providers.items()
            },
        )


def supports(config: Config) -> bool:
    """Whether this site's feeds can be updated story by story (see the module docstring)."""
    # Custom feeds and keyword topics draw on every story; archives repage whole feeds.
    return not (config.match_keywords or config.feeds or config.archives or config.ages_out)


def record_build(
    state: State,
    config: Config,
    fingerprint: str,
    walk_notes: tuple[tuple[str, ...], ...],
    scanned: ScanSummary,
    loaded: LoadResult[ArticleHead],
    selection: Selection,
    taxonomy: Taxonomy,
    now: datetime,
) -> None:
    """Keep what a full build published, for the next build to apply changes to."""
    from .selection import hold_scheduled

    raw = {a.path: a for a in loaded.articles}
    kept = {a.path for a in selection.articles}
    ready, _ = hold_scheduled(loaded.articles, now)
    merged = [
        (a.path, canonical_url(a.url))
        for a in ready
        if a.path not in kept and not (a.draft and not config.include_drafts)
    ]
    keys_unique = all(a.key == raw[a.path].key for a in selection.articles)
    topics_json: dict[tuple[str, ...], str] = {}  # stories share their topic tuples

    def rows() -> Iterator[tuple[object, ...]]:
        """Each story's row, made as SQLite takes it: none is kept."""
        for article in selection.articles:
            provider = raw[article.path].provider  # its own logo, before the taxonomy's
            topics = topics_json.get(article.topic_slugs)
            if topics is None:
                topics = topics_json[article.topic_slugs] = json.dumps(
                    sorted(set(article.topic_slugs))
                )
            yield (
                article.path,
                article.key,
                canonical_url(article.url),
                micros(article.published),
                article.quality,
                None if article.updated is None else micros(article.updated),
                article.provider.domain if article.provider else None,
                (provider.logo or "") if provider else "",
                topics,
            )

    sources = scanned.sources
    known: dict[str, Topic] = {}
    for topic in loaded.topics:
        for alias in (topic.name, topic.slug):
            if alias:
                known.setdefault(normalize_name(alias), topic)
    record = Snapshot(
        config=fingerprint,
        files_read=loaded.files_read,
        published=len(selection.articles),
        drafts=selection.drafts,
        duplicates=selection.duplicates,
        scheduled=selection.scheduled,
        next_release=None if selection.next_release is None else micros(selection.next_release),
        walk_notes=[list(n) for n in walk_notes],
        scan_notes=list(scanned.notes),
        file_notes=[(sources[d], d, note) for d, note in loaded.file_notes],
        rejections=[(sources[r.path], r.path, r.reason, r.line) for r in loaded.rejections],
        selection_warnings=list(selection.warnings),
        topics={name: [t.slug, t.name, t.description] for name, t in taxonomy.topics.items()},
        topic_counts={n: dict(c) for n, c in taxonomy.spellings.items()},
        known_topics={n: t.name for n, t in known.items() if t.slug},
        providers={i: [p.name, p.domain, p.logo] for i, p in taxonomy.providers.items()},
        provider_counts={i: dict(c) for i, c in taxonomy.provider_names.items()},
        organizations={provider_identity(p): [p.name, p.logo] for p in loaded.providers},
        feeds=[_feed_record(config, feed, taxonomy) for feed in selection.feeds],
    )
    if keys_unique and supports(config) and all(f.items for f in selection.feeds):
        record_published(state, rows(), merged, record.to_json())
    else:
        record_published(state, [], [], "")


class ScanSummary(NamedTuple):
    """What the record needs of a full build's scan, which is let go of once loaded
    (at 100,000 files the scan's stamps are some 30 MiB)."""

    notes: tuple[str, ...]  # the scan's own
    sources: dict[str, int]  # the source of each file with notes or a rejection


def summarize_scan(scan: Scan, loaded: LoadResult[ArticleHead]) -> ScanSummary:
    """What ``record_build`` needs of ``scan``, once ``loaded`` says which files it names."""
    named = {d for d, _ in loaded.file_notes} | {r.path for r in loaded.rejections}
    return ScanSummary(scan.notes, _sources_of(scan, named))


def _sources_of(scan: Scan, displays: set[str]) -> dict[str, int]:
    """The source (by its place in the config) of each of ``displays``."""
    found: dict[str, int] = {}
    if not displays:
        return found
    source, ends = 0, scan.source_ends
    for index, file in enumerate(scan.files):
        while source < len(ends) - 1 and index >= ends[source]:
            source += 1
        if file.display in displays:
            found[file.display] = source
    return found


def _feed_record(config: Config, feed: Feed[ArticleHead], taxonomy: Taxonomy) -> FeedRecord:
    name = ""
    if feed.kind is FeedKind.TOPIC:
        name = next((t.name for t in taxonomy.topics.values() if t.slug == feed.key), "")
    elif feed.kind is FeedKind.PROVIDER:
        name = next((p.name for p in taxonomy.providers.values() if p.domain == feed.key), "")
    max_items, min_quality = feed_limits(config, feed, name)
    return {
        "kind": feed.kind.value,
        "key": feed.key,
        "folder": feed.folder,
        "title": feed.title,
        "description": feed.description,
        "icon": feed.icon,
        "logo": feed.logo,
        "total": feed.total,
        "max_items": max_items,
        "min_quality": min_quality,
        "items": [(a.path, None if a.updated is None else micros(a.updated)) for a in feed.items],
    }


@dataclass
class _Change:
    """One changed file: its story before (if published) and after (if to be published)."""

    display: str
    source: int
    before: FileOutcome | None
    after: FileOutcome | None
    old: PublishedRow | None = None
    new: PublishedRow | None = None
    redated: bool = False  # not a changed file: a story dated apart from a changed one


@dataclass
class Pending:
    """Changed files, read: the stories they held and hold, nothing stored yet."""

    cache: ArticleCache
    found: list[_Change]
    rows: list[ArticleRow]  # the new cache rows of the files changed
    touched: list[SourceFile]  # files whose bytes proved unchanged under a new stamp
    gone: list[str]  # files no longer there
    now_ns: int
    restamped: bool = False  # a file's size or mtime changed (not only its trust)

    @property
    def unchanged(self) -> bool:
        """Nothing changed: the files the listing could not vouch for proved the same."""
        return not self.found and not self.restamped

    def keep_touched(self) -> None:
        """Nothing changed but mtimes: record them, so the files are not read again."""
        if self.touched:
            self.cache.touch(self.touched, self.now_ns)


def read_changes(
    config: Config, state: State, changes: ListingChanges, progress: Progress | None = None
) -> Pending | None:
    """Read the files a listing found changed (their bytes' hash decides which did);
    None when one the cache never saw is gone."""
    skip_drafts = not config.include_drafts
    cache = ArticleCache(state, parser_fingerprint(config.max_file_bytes))
    displays = [f.display for f in changes.present] + [d for d, _ in changes.gone]
    before = cache.cached(displays, skip_drafts)
    if any(d not in before for d, _ in changes.gone):
        return None
    now_ns = time.time_ns()
    touched: list[SourceFile] = []
    rows = []
    found: list[_Change] = []
    restamped = False
    to_parse: list[tuple[SourceFile, int, bytes | None]] = []
    for file, source, racy in zip(changes.present, changes.sources, changes.racy, strict=True):
        old = before.get(file.display)
        data = None
        if old is not None and old.sha1:
            data = _read(file, config.max_file_bytes)
            if data is not None and hashlib.sha1(data).hexdigest() == old.sha1:
                touched.append(file)  # the same bytes under a new mtime
                restamped = restamped or not racy
                continue
        to_parse.append((file, source, data))  # read once: parsed from these bytes
    if progress is not None and to_parse:
        progress(PARSE, 0, len(to_parse))
    for done, (file, source, data) in enumerate(to_parse, 1):
        loaded = load_file(file, config.max_file_bytes, data)
        rows.append(cache.encoder(file, loaded, now_ns))
        found.append(_Change(file.display, source, before.get(file.display), None))
        if progress is not None and (done == len(to_parse) or done % 200 == 0):
            progress(PARSE, done, len(to_parse))
    for display, source in changes.gone:
        found.append(_Change(display, source, before[display], None))
    after = _outcomes(rows, skip_drafts)
    for change in found:
        change.after = after.get(change.display)
    gone = [d for d, _ in changes.gone]
    return Pending(cache, found, rows, touched, gone, now_ns, restamped)


def _read(file: SourceFile, max_bytes: int) -> bytes | None:
    """The file's bytes; None if it cannot be read (loading it then says why)."""
    from .errors import SourceError
    from .sources import read_bytes

    try:
        return read_bytes(file.path, file.display, max_bytes)
    except SourceError:
        return None


def build_changes(
    config: Config,
    now: datetime,
    state: State,
    fingerprint: str,
    listing: Listing,
    pending: Pending,
    cores: int,
    ping_hubs: bool,
    progress: Progress | None,
    record: Snapshot | None = None,
) -> BuildReport | None:
    """Apply the changed files to the last build's record and write the feeds they touch.

    ``record`` is the last build's snapshot if the caller has read it already.
    Returns None, having written nothing, when the change cannot be applied
    exactly (see the module docstring): the caller then builds the full way.
    """
    if record is None:
        text = snapshot(state)
        record = Snapshot.from_json(text) if text else None
    if (
        record is None
        or record.config != fingerprint
        or not supports(config)
        or record.walk_notes != [list(n) for n in listing.notes]
        or (record.next_release is not None and micros(now) >= record.next_release)
    ):
        return None
    found, cache = pending.found, pending.cache
    plan = _plan(config, now, state, record, found)
    if plan is None:
        return None

    def logos_kept(first_logo: Callable[[str], str | None]) -> bool:
        return all(
            (first_logo(key) or fallback) == logo for key, (logo, fallback) in plan.logos.items()
        )

    try:
        runs = apply_changes(
            state,
            gone=[c.old for c in found if c.old is not None],
            added=[c.new for c in found if c.new is not None],
            instants=[r.published for c in found for r in (c.old, c.new) if r is not None],
            logos=logos_kept,
        )
    except Conflict:
        return None
    found.extend(_redated(state, runs, found))
    if pending.rows:
        cache.store(pending.rows, not config.include_drafts)
    pending.keep_touched()
    if pending.gone:
        cache.forget(pending.gone)
    return _write(
        config, now, state, cache, record, found, plan, listing, cores, ping_hubs, progress
    )


def _redated(
    state: State, runs: dict[int, list[tuple[str, str, int | None]]], found: list[_Change]
) -> list[_Change]:
    """Date apart the stories that share an instant with a changed one (as grouping does:
    selection.instant_shifts); each other story whose date moved is a change of its feeds."""
    from .selection import instant_shifts

    moved: list[tuple[str, int | None]] = []
    for when, stories in runs.items():
        shifts = instant_shifts([key for _, key, _ in stories]) if len(stories) > 1 else {}
        for path, key, updated in stories:
            shift = shifts.get(key)
            wanted = None if shift is None else when + shift // timedelta(microseconds=1)
            if wanted != updated:
                moved.append((path, wanted))
    if not moved:
        return []
    redate(state, moved)
    changed = {c.display: c for c in found}
    others = published_rows(state, [path for path, _ in moved if path not in changed])
    for path, wanted in moved:
        change = changed.get(path)
        if change is not None and change.new is not None:
            change.new = change.new._replace(updated=wanted)
    # The same story before and after: its feeds are rendered again, their totals kept.
    return [_Change(path, -1, None, None, row, row, True) for path, row in others.items()]


def _outcomes(rows: Sequence[ArticleRow], skip_drafts: bool) -> dict[str, FileOutcome]:
    """The outcomes of fresh rows, as the cache will give them back (nothing is stored yet)."""
    from .store.articles import outcome_of_row

    return {row.path: outcome_of_row(row, skip_drafts) for row in rows}


@dataclass
class _Plan:
    taxonomy: Taxonomy  # the last build's, which the change leaves as it is
    # provider key → the logo its stories must keep, and its organization's (if no story has one)
    logos: dict[str, tuple[str | None, str | None]]
    topic_counts: dict[str, dict[str, int]]
    provider_counts: dict[str, dict[str, int]]


def _plan(
    config: Config, now: datetime, state: State, record: Snapshot, found: list[_Change]
) -> _Plan | None:
    """Decide each change's old and new published row; None if any reaches further."""
    taxonomy = record.taxonomy()
    olds = published_rows(state, [c.display for c in found if c.before is not None])
    release_after = now + SCHEDULE_GRACE
    topic_counts = {n: dict(c) for n, c in record.topic_counts.items()}
    provider_counts = {i: dict(c) for i, c in record.provider_counts.items()}
    touched_topics: set[str] = set()
    touched_providers: set[str] = set()
    canonicals: list[str] = []
    for change in found:
        old, new = change.before, change.after
        if old is not None and old.article is not None:
            change.old = olds.get(change.display)
            if change.old is None:
                return None  # held back, or merged into another story: not a plain one
        if new is not None and new.article is not None:
            article = new.article
            if article.published > release_after and not article.draft:
                return None  # scheduled
            change.new = _row(article, taxonomy)
            if change.new is None:
                return None  # a topic or provider no feed has yet
            canonicals.append(change.new.canonical)
        if change.old is not None:
            canonicals.append(change.old.canonical)
        for outcome, step in ((old, -1), (new, 1)):
            story = outcome.article if outcome is not None else None
            if story is None:
                continue
            for name in story.topics:
                norm = normalize_name(name)
                counts = topic_counts.setdefault(norm, {})
                counts[name] = counts.get(name, 0) + step
                touched_topics.add(norm)
            if story.provider is not None:
                identity = provider_identity(story.provider)
                counts = provider_counts.setdefault(identity, {})
                counts[story.provider.name] = counts.get(story.provider.name, 0) + step
                touched_providers.add(identity)
    if merged_with(state, [c.display for c in found], canonicals):
        return None
    for norm in touched_topics:
        counts = {s: n for s, n in topic_counts[norm].items() if n}
        topic_counts[norm] = counts
        entry = taxonomy.topics.get(norm)
        if not counts or entry is None:
            return None  # a topic's last story gone, or a new topic
        name = record.known_topics.get(norm) or most_common(counts)
        if name != entry.name:
            return None
    logos: dict[str, tuple[str | None, str | None]] = {}
    for identity in touched_providers:
        counts = {s: n for s, n in provider_counts[identity].items() if n}
        provider_counts[identity] = counts
        provider = taxonomy.providers.get(identity)
        if not counts or provider is None:
            return None
        organization = record.organizations.get(identity)
        shown = organization[0] if organization else most_common(counts)
        if shown != provider.name:
            return None
        logos[provider.domain] = (provider.logo, organization[1] if organization else None)
    return _Plan(taxonomy, logos, topic_counts, provider_counts)


def _row(article: ArticleHead, taxonomy: Taxonomy) -> PublishedRow | None:
    """The published row of a story, with its feeds' keys; None if a feed is missing."""
    provider = taxonomy.provider(article.provider)
    if article.provider is not None and provider is None:
        return None
    slugs = set()
    for name in article.topics:
        topic = taxonomy.topic(name)
        if topic is None:
            return None
        slugs.add(topic.slug)
    return PublishedRow(
        article.path,
        article.key,
        canonical_url(article.url),
        micros(article.published),
        article.quality,
        None,
        provider.domain if provider else None,
        (article.provider.logo or "") if article.provider else "",
        tuple(sorted(slugs)),
    )


def _write(
    config: Config,
    now: datetime,
    state: State,
    cache: ArticleCache,
    record: Snapshot,
    found: list[_Change],
    plan: _Plan,
    listing: Listing,
    cores: int,
    ping_hubs: bool,
    progress: Progress | None,
) -> BuildReport | None:
    """Select the touched feeds again and write the site; None if one would be empty."""
    from .guard import check_shrink
    from .output import last_feed_folders
    from .render.site import subscriptions
    from .store.builds import last_report_of
    from .write import write_site

    touched: dict[str, list[_Change]] = {}  # feed folder → the changes it holds
    for change in found:
        for row in (change.old, change.new):
            if row is None:
                continue
            keys = ["", *(f"topics/{t}" for t in row.topics)]
            if row.provider is not None:
                keys.append(f"providers/{row.provider}")
            for key in keys:
                held = touched.setdefault(key, [])
                if not held or held[-1] is not change:  # a story in a feed before and after
                    held.append(change)
    taxonomy = plan.taxonomy
    items: dict[str, list[tuple[str, int | None]]] = {}
    for entry in record.feeds:
        folder = entry["folder"]
        if folder not in touched:
            continue
        limit, floor = entry["max_items"], entry["min_quality"]
        kind = FeedKind(entry["kind"])
        key = entry["key"]
        items[folder] = newest(
            state,
            limit,
            floor if isinstance(floor, int) else None,
            topic=key if kind is FeedKind.TOPIC else None,
            provider=key if kind is FeedKind.PROVIDER else None,
        )
        counted = 0
        for change in touched[folder]:
            for row, step in ((change.old, -1), (change.new, 1)):
                if (
                    row is not None
                    and (not isinstance(floor, int) or row.quality >= floor)
                    and (folder == "" or _holds(folder, row))
                ):
                    counted += step
        entry["total"] += counted
        if not items[folder]:
            return None  # an empty feed is dated by the site's newest story: the full way
        entry["items"] = items[folder]
    paths = sorted({p for entry in record.feeds for p, _ in entry["items"]})
    heads = cache.cached(paths, False)
    articles: dict[str, ArticleHead] = {}
    for path, outcome in heads.items():
        assert outcome.article is not None
        articles[path] = outcome.article
    whole = {a.path: a for a in resolved(list(articles.values()), taxonomy)}
    feeds: list[Feed[ArticleHead]] = []
    for entry in record.feeds:
        chosen = []
        for path, when in entry["items"]:
            article = whole[path]
            if when is not None:
                article = replace(article, updated=from_micros(when))
            chosen.append(article)
        feeds.append(
            Feed(
                kind=FeedKind(entry["kind"]),
                key=entry["key"],
                folder=entry["folder"],
                title=entry["title"],
                description=entry["description"],
                items=tuple(chosen),
                total=entry["total"],
                icon=entry["icon"],
                logo=entry["logo"],
            )
        )
    published = record.published + sum((c.new is not None) - (c.old is not None) for c in found)
    record.drafts += sum(
        (c.after is not None and c.after.draft_skipped)
        - (c.before is not None and c.before.draft_skipped)
        for c in found
    )
    record.published = published
    changed = {c.display for c in found if not c.redated}
    record.file_notes = [n for n in record.file_notes if n[1] not in changed]
    record.rejections = [r for r in record.rejections if r[1] not in changed]
    for change in found:
        if change.after is None:
            continue
        record.file_notes.extend(
            (change.source, change.display, note) for note in change.after.notes
        )
        if change.after.rejection is not None:
            rejection = change.after.rejection
            record.rejections.append(
                (change.source, change.display, rejection.reason, rejection.line)
            )
    record.file_notes.sort(key=_file_order)
    record.rejections.sort(key=_file_order)
    record.files_read = listing.files_listed()
    record.topic_counts = plan.topic_counts
    record.provider_counts = plan.provider_counts
    selection = Selection(
        articles=(),
        feeds=tuple(feeds),
        drafts=record.drafts,
        duplicates=record.duplicates,
        warnings=tuple(record.selection_warnings),
        scheduled=record.scheduled,
        next_release=None if record.next_release is None else from_micros(record.next_release),
    )
    check_shrink(
        config,
        last_report_of(state, str(config.out)),
        last_feed_folders(config.out),
        subscriptions(selection),
        published,
    )
    report = write_site(config, selection, state, cache, cores, now, ping_hubs, progress)
    save_snapshot(state, record.to_json())
    notes = [*record.scan_notes, *(note for _, _, note in record.file_notes)]
    return replace(
        report,
        files_read=record.files_read,
        published=published,
        rejected=tuple(
            Rejection(path, reason, line) for _, path, reason, line in record.rejections
        ),
        warnings=(*notes, *selection.warnings, *report.warnings),
        scheduled=selection.scheduled,
        next_release=selection.next_release,
        incremental=True,
    )


def _file_order(entry: tuple[int, str, str] | tuple[int, str, str, int | None]) -> tuple[int, str]:
    """Notes and rejections come in the order of the files: by source, then name."""
    return entry[0], entry[1]


def _holds(folder: str, row: PublishedRow) -> bool:
    if folder.startswith("topics/"):
        return folder[7:] in row.topics
    return row.provider == folder[10:]
