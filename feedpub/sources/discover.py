"""Find the article files of a source: listed, stat-ed and sorted, never followed out of it.

Listing comes first and stays cheap (``list_sources``): it runs on every cron
build of a site that may hold 100,000 files, and most of the time it is all a
build does (store/stamps.py compares it with the last one). Only a build that
goes on makes a ``Scan`` of it: sorted files, and the taxonomy read.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import SourceError
from ..model import Provider, Topic
from ..progress import SCAN, SCAN_INTERVAL, Paced, Progress
from .read import display_name

ARTICLE_SUFFIXES = (".md", ".markdown")
# A file modified this close to when it was listed may be written again within
# the file system's clock tick, keeping its mtime: its stamp cannot vouch for it.
RACY_NS = 2_000_000_000
# What a listing adds to a racy file's stamp: it never equals a real one.
UNTRUSTED = "?"
TAXONOMY_FOLDERS = ("topics", "organizations")
MAX_TAXONOMY_BYTES = 1 << 20  # as datafiles.MAX_DATA_FILE_BYTES: more is not read


class SourceFile(NamedTuple):
    """An article file to load: where it is, how to name it, and its stat when listed.

    A NamedTuple, not a dataclass: one is made per file on every run.
    """

    path: str | Path
    display: str
    size: int = -1
    mtime_ns: int = -1


class ListedFolder(NamedTuple):
    """One folder's files as listed: ``name/size/mtime_ns`` each ('/' is never in a name)."""

    source: int  # the source it belongs to, by its place in the config
    prefix: str  # the folder's path, ending in a separator
    entries: list[str]  # in the file system's order; -1/-1 when stat failed
    taxonomy: bool = False  # a site root's _data/topics or _data/organizations

    @property
    def stamp_key(self) -> str:
        return f"{self.source}:{'taxonomy' if self.taxonomy else 'articles'}:{self.prefix}"


@dataclass(frozen=True, slots=True)
class Listing:
    """Every article file of the sources with its size and mtime, unread.

    ``racy`` holds the entries (folder index, entry index) modified too close
    to ``listed_ns`` for their stamp to vouch for them (see RACY_NS).
    """

    folders: tuple[ListedFolder, ...]
    site_roots: tuple[Path | None, ...]  # per source
    notes: tuple[tuple[str, ...], ...]  # per source: the parts of it skipped
    listed_ns: int
    racy: tuple[tuple[int, int], ...] = ()

    def stamps(self) -> dict[str, bytes]:
        """What a later listing is compared with, by folder: racy entries never match."""
        untrusted: dict[int, set[int]] = {}
        for where, entry in self.racy:
            untrusted.setdefault(where, set()).add(entry)
        result: dict[str, bytes] = {}
        for index, folder in enumerate(self.folders):
            entries = folder.entries
            if index in untrusted:
                entries = [
                    e + UNTRUSTED if i in untrusted[index] else e for i, e in enumerate(entries)
                ]
            result[folder.stamp_key] = encode_entries(entries)
        return result

    def files_listed(self) -> int:
        return sum(len(f.entries) for f in self.folders if not f.taxonomy)

    def changes_since(self, stored: Mapping[str, bytes], limit: int) -> ListingChanges | None:
        """The article files added, changed or gone since ``stored`` (``stamps()`` of an
        earlier listing). None when there is no earlier listing, a taxonomy file changed
        (every feed may change) or over ``limit`` files did: then everything is loaded."""
        if not stored:
            return None
        count = 0
        present: list[SourceFile] = []
        sources: list[int] = []
        racy: list[bool] = []
        gone: list[tuple[str, int]] = []
        seen: set[str] = set()
        for folder in self.folders:
            key = folder.stamp_key
            seen.add(key)
            now = encode_entries(folder.entries)
            before = stored.get(key)
            if before == now:
                continue
            if folder.taxonomy:
                return None
            old = set(decode_entries(before)) if before is not None else set()
            new = set(folder.entries)
            added = new - old  # set arithmetic in C: most of 100,000 entries are in both
            removed = old - new
            count += len(added) + len(removed)
            if count > limit:
                return None
            names = {entry_name(entry) for entry in added}
            for entry in sorted(added):
                present.append(entry_file(folder.prefix, entry))
                sources.append(folder.source)
                racy.append(entry + UNTRUSTED in removed)
            for entry in sorted(removed):
                name = entry_name(entry)
                if name not in names:
                    gone.append((display_name(folder.prefix + name), folder.source))
        for key, before in stored.items():
            if key not in seen:
                source, kind, prefix = key.split(":", 2)
                if kind == "taxonomy":
                    return None
                for entry in decode_entries(before):
                    gone.append((display_name(prefix + entry_name(entry)), int(source)))
        return ListingChanges(tuple(present), tuple(sources), tuple(racy), tuple(gone))


@dataclass(frozen=True, slots=True)
class ListingChanges:
    """The article files that differ between two listings."""

    present: tuple[SourceFile, ...]  # added or changed (or untrusted), as listed now
    sources: tuple[int, ...]  # the source of each of ``present``
    # Each of ``present`` whose stamp is the same, but was too fresh to vouch for it.
    racy: tuple[bool, ...]
    gone: tuple[tuple[str, int], ...]  # (display name, source) of each file no longer listed

    def __bool__(self) -> bool:
        return bool(self.present or self.gone)


def encode_entries(entries: list[str]) -> bytes:
    return "\0".join(entries).encode("utf-8", "surrogateescape")


def decode_entries(data: bytes) -> list[str]:
    return data.decode("utf-8", "surrogateescape").split("\0") if data else []


def stat_entry(name: str, info: os.stat_result) -> str:
    """A file's listing entry: ``name/size/mtime_ns`` ('/' is never in a name)."""
    return f"{name}/{info.st_size}/{info.st_mtime_ns}"


def entry_name(entry: str) -> str:
    return entry.rsplit("/", 2)[0]


def entry_file(prefix: str, entry: str) -> SourceFile:
    """The file a listing entry of the folder at ``prefix`` stands for, with its stamp."""
    name, size, mtime = entry.rsplit("/", 2)
    path = prefix + name
    return SourceFile(path, display_name(path), int(size), int(mtime))


@dataclass(frozen=True, slots=True)
class Scan:
    """The article files of every source, stat-ed, with their taxonomy."""

    files: tuple[SourceFile, ...]  # with their size and mtime: the cache's stamps
    topics: tuple[Topic, ...]
    providers: tuple[Provider, ...]
    notes: tuple[str, ...]
    source_ends: tuple[int, ...] = ()  # where the files of each source end in ``files``


def scan_sources(sources: Sequence[Path], progress: Progress | None = None) -> Scan:
    """List and stat every article file and read the taxonomy of every source.

    ``progress`` hears the count of files found so far (see ``feedpub.progress``).

    Raises:
        SourceError: a source folder is missing or unreadable (fatal:
            publishing from half the sources would drop feeds).
    """
    return scan_listing(list_sources(sources, progress))


def scan_listing(listing: Listing) -> Scan:
    """The files of a listing, sorted within each source, and the taxonomy read."""
    from .datafiles import load_organizations, load_topics

    files: list[SourceFile] = []
    notes: list[str] = []
    topics: list[Topic] = []
    providers: list[Provider] = []
    ends: list[int] = []
    for source, site_root in enumerate(listing.site_roots):
        found: list[SourceFile] = []
        for folder in listing.folders:
            if folder.source != source or folder.taxonomy:
                continue
            prefix = folder.prefix
            found.extend(entry_file(prefix, entry) for entry in folder.entries)
        found.sort(key=lambda f: f.display)
        files.extend(found)
        ends.append(len(files))
        notes.extend(listing.notes[source])
        if site_root is not None:
            topics.extend(load_topics(site_root, notes))
            providers.extend(load_organizations(site_root, notes))
    return Scan(tuple(files), tuple(topics), tuple(providers), tuple(notes), tuple(ends))


def list_sources(sources: Sequence[Path], progress: Progress | None = None) -> Listing:
    """List and stat every article file of the sources (and their taxonomy files), unread.

    A site root is a folder holding ``_news/``; its articles are below
    ``_news/`` and its ``_data/`` holds the taxonomy. Otherwise every ``*.md``
    below the folder is an article. Hidden files and folders are passed over.
    A part of the tree that cannot be walked is skipped with a note (see
    ``_walk``); everything else is listed. ``progress`` hears the count of
    files found so far.

    Raises:
        SourceError: a source does not exist, is a file but not an article,
            or cannot be listed at all.
    """
    listed_ns = time.time_ns()
    paced = None if progress is None else Paced(progress, SCAN, SCAN_INTERVAL)
    walk = _Walk(listed_ns - RACY_NS, paced)
    site_roots: list[Path | None] = []
    notes: list[tuple[str, ...]] = []
    for index, source in enumerate(sources):
        if paced is not None:
            paced(walk.found)  # at once: a terminal shows something before any work
        site_roots.append(walk.source(index, source))
        notes.append(walk.take_notes())
    if paced is not None:
        paced.finish(walk.found, walk.found)
    return Listing(
        tuple(walk.folders), tuple(site_roots), tuple(notes), listed_ns, tuple(walk.racy)
    )


def relist(
    sources: Sequence[Path],
    stored: Mapping[str, bytes],
    notes: Sequence[Sequence[str]],
    changed: Iterable[Path],
) -> Listing | None:
    """The listing ``stored`` (``Listing.stamps()`` of the last build) with only ``changed``
    looked at again: what a file watcher's events allow instead of a walk of every folder.

    ``notes`` are the last listing's. None when a change is not one of a plain article
    file in a folder already listed (a new folder, a taxonomy file...): list it all then.
    """
    listed_ns = time.time_ns()
    keys: dict[str, str] = {}  # folder prefix → its stamp key
    for key in stored:
        source, kind, prefix = key.split(":", 2)
        if kind == "articles" and int(source) < len(sources):
            keys.setdefault(prefix, key)
    wanted: dict[str, dict[str, str | None]] = {}
    for path in changed:
        parent, name = os.path.split(os.path.abspath(path))
        found = keys.get(parent + os.sep) or keys.get(os.path.relpath(parent) + os.sep)
        if found is None or name.startswith(".") or not name.lower().endswith(ARTICLE_SUFFIXES):
            return None
        try:
            info = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            wanted.setdefault(found, {})[name] = None
            continue
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        wanted.setdefault(found, {})[name] = stat_entry(name, info)
    result: list[ListedFolder] = []
    racy: list[tuple[int, int]] = []
    for key, data in stored.items():
        source, kind, prefix = key.split(":", 2)
        text = data.decode("utf-8", "surrogateescape")
        fresh: list[str] = []
        if kind == "articles" and key in wanted:
            # A few names looked up in the text (in C), not every entry split in Python.
            text = "\0" + text + "\0"
            for name, entry in wanted[key].items():
                start = text.find(f"\0{name}/")
                if start >= 0:
                    text = text[:start] + text[text.index("\0", start + 1) :]
                if entry is not None:
                    fresh.append(entry)
            text = text.strip("\0")
        entries = text.split("\0") if text else []
        folder = len(result)
        if UNTRUSTED in text:  # entries the last listing could not vouch for: still not
            for index, entry in enumerate(entries):
                if entry.endswith(UNTRUSTED):
                    entries[index] = entry[: -len(UNTRUSTED)]
                    racy.append((folder, index))
        for entry in sorted(fresh):
            if int(entry.rsplit("/", 1)[1]) > listed_ns - RACY_NS:
                racy.append((folder, len(entries)))
            entries.append(entry)
        result.append(ListedFolder(int(source), prefix, entries, kind == "taxonomy"))
    site_roots = tuple(s if (s / "_news").is_dir() else None for s in sources)
    return Listing(
        tuple(result),
        site_roots,
        tuple(tuple(n) for n in notes),
        listed_ns,
        tuple(racy),
    )


def check_source(source: Path) -> os.stat_result:
    """The stat of a source that can be one: a folder, or a single article file.

    Raises:
        SourceError: the source does not exist, cannot be looked at, or is
            neither a folder nor an article file (``*.md``, ``*.markdown``).
    """
    try:
        info = source.stat()
    except FileNotFoundError:
        kind = "file" if source.name.lower().endswith(ARTICLE_SUFFIXES) else "folder"
        raise SourceError(source, f"source {kind} does not exist") from None
    except OSError as e:
        raise SourceError(source, f"cannot look at the source: {e.strerror or e}") from e
    if stat.S_ISDIR(info.st_mode):
        return info
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(source, "the source is not a folder (nor a file: a device or a pipe)")
    if not source.name.lower().endswith(ARTICLE_SUFFIXES):
        raise SourceError(
            source,
            "the source is a file, not a folder (a source is a folder of articles, "
            f"or one article file ending in {' or '.join(ARTICLE_SUFFIXES)})",
        )
    return info


# Deeper than this below a source, a folder is skipped: no site nests so, and a
# generated chain of folders must not cost the build.
MAX_FOLDER_DEPTH = 64
# Longer paths than this (in bytes) are skipped: PATH_MAX is 4096 on Linux.
MAX_PATH_BYTES = 4000
MAX_WALK_NOTES = 20  # then one line counts the rest
# A path this long is surely within MAX_PATH_BYTES (4 bytes a character at most).
_SHORT_PATH = MAX_PATH_BYTES // 4


class _Walk:
    """One listing of every source: the folders found, the racy entries, what was skipped."""

    def __init__(self, racy_after: int, paced: Paced | None) -> None:
        self.racy_after = racy_after
        self.paced = paced
        self.folders: list[ListedFolder] = []
        self.racy: list[tuple[int, int]] = []
        self.skipped: list[str] = []
        self.found = 0

    def source(self, index: int, source: Path) -> Path | None:
        """List one source; its site root, if it is one."""
        info = check_source(source)
        if stat.S_ISREG(info.st_mode):
            prefix, name = os.path.split(str(source))
            entries = [stat_entry(name, info)]
            self._add(
                ListedFolder(index, prefix + os.sep if prefix else "", entries), [info.st_mtime_ns]
            )
            return None
        site_root: Path | None = None
        articles_dir = source
        if (source / "_news").is_dir():
            site_root, articles_dir = source, source / "_news"
        try:
            top = os.stat(articles_dir)
            with os.scandir(articles_dir):
                pass
        except OSError as e:
            raise SourceError(source, f"cannot list source folder: {e.strerror or e}") from e
        self._walk(index, str(articles_dir), (top.st_dev, top.st_ino))
        if site_root is not None:
            for name in TAXONOMY_FOLDERS:
                self._taxonomy(index, site_root / "_data" / name)
        return site_root

    def take_notes(self) -> tuple[str, ...]:
        """What the last source's walk skipped, MAX_WALK_NOTES at most, then a count."""
        skipped, self.skipped = self.skipped, []
        notes = skipped[:MAX_WALK_NOTES]
        if len(skipped) > MAX_WALK_NOTES:
            notes.append(f"and {len(skipped) - MAX_WALK_NOTES:,} more parts of the sources skipped")
        return tuple(notes)

    def _add(self, folder: ListedFolder, racy: Iterable[int] = ()) -> None:
        """Add a folder's listing; ``racy``: which of its entries are too fresh to trust."""
        index = len(self.folders)
        self.folders.append(folder)
        self.racy.extend((index, i) for i in racy)
        if not folder.taxonomy:
            self.found += len(folder.entries)
            if self.paced is not None:
                self.paced(self.found)

    def _taxonomy(self, index: int, folder: Path) -> None:
        """A taxonomy folder's files (any name: a new one may be read), each with a hash
        of its bytes: a handful of small files, so no stamp needs trusting."""
        import hashlib

        entries: list[str] = []
        try:
            names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
        except OSError:
            names = []  # no such folder (or unreadable): reading it says so
        for name in names:
            try:
                with open(folder / name, "rb") as file:
                    digest = hashlib.sha1(file.read(MAX_TAXONOMY_BYTES + 1)).hexdigest()
            except OSError as e:
                digest = f"unreadable {e.errno}"
            entries.append(f"{name}/{digest}")
        self._add(ListedFolder(index, str(folder) + os.sep, entries, True))

    def _walk(self, index: int, top: str, identity: tuple[int, int]) -> None:
        """Collect article files below ``top`` with their stat, without recursion.

        Strings, not pathlib (it is slow here). A folder that cannot be listed,
        lies deeper than MAX_FOLDER_DEPTH, has a path over MAX_PATH_BYTES, or is
        one already walked (a bind-mount loop) is skipped with a note; symlinked
        folders are never followed.
        """
        seen = {identity}
        stack = [(top, 0)]
        while stack:
            folder, depth = stack.pop()
            prefix = folder if folder.endswith(os.sep) else folder + os.sep
            try:
                # Listed through a descriptor, each entry is stat-ed relative to it
                # (fstatat): the kernel does not walk the folder's path once per file.
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as e:
                self.skipped.append(f"{display_name(folder)}: folder skipped: {e.strerror or e}")
                continue
            entries: list[str] = []
            racy: list[int] = []
            below: list[str] = []
            try:
                with os.scandir(fd) as listed:
                    others = _list_articles(listed, len(prefix), entries, racy, self.racy_after)
                # Folders and everything unusual in name order, so that the walk (and
                # which of two bind-mounted copies counts as the loop) never depends on
                # the file system's order; plain articles need no order here.
                others.sort(key=lambda e: e.name)
                for entry in others:
                    path = prefix + entry.name
                    problem = _entry_problem(entry, path, depth, seen, below)
                    if problem == _ARTICLE:
                        _list_article(entry, entries, racy, self.racy_after)
                    elif problem:
                        self.skipped.append(f"{display_name(path)}: {problem}")
            except OSError as e:
                self.skipped.append(f"{display_name(folder)}: folder skipped: {e.strerror or e}")
                continue
            finally:
                os.close(fd)
            if entries:
                self._add(ListedFolder(index, prefix, entries), racy)
            stack.extend((path, depth + 1) for path in reversed(below))


def _list_articles(
    entries: Iterable[os.DirEntry[str]],
    prefix_length: int,
    listed: list[str],
    racy: list[int],
    racy_after: int,
) -> list[os.DirEntry[str]]:
    """List the plain article files of one folder (the common case, kept cheap: a
    scan of 100,000 files runs on every cron build); return every other entry."""
    short = _SHORT_PATH - prefix_length
    others: list[os.DirEntry[str]] = []
    add = listed.append
    for entry in entries:
        name = entry.name
        if name[0] == ".":
            continue
        if name.endswith(".md") and len(name) <= short:  # anything else: _entry_problem
            try:
                folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                folder = True  # _entry_problem says why
            if not folder:
                try:
                    info = entry.stat()
                except OSError:
                    add(f"{name}/-1/-1")  # loading will say why
                    continue
                mtime = info.st_mtime_ns
                add(f"{name}/{info.st_size}/{mtime}")  # stat_entry, inline: once per file
                if mtime > racy_after:
                    racy.append(len(listed) - 1)
                continue
        others.append(entry)
    return others


def _list_article(
    entry: os.DirEntry[str], listed: list[str], racy: list[int], racy_after: int
) -> None:
    """List one article file that is not a plain one (``X.MD``, a symlink...)."""
    try:
        info = entry.stat()
    except OSError:
        listed.append(f"{entry.name}/-1/-1")  # loading will say why
        return
    listed.append(stat_entry(entry.name, info))
    if info.st_mtime_ns > racy_after:
        racy.append(len(listed) - 1)


_ARTICLE = "article"  # what _entry_problem says of an article file to list


def _entry_problem(
    entry: os.DirEntry[str],
    path: str,
    depth: int,
    seen: set[tuple[int, int]],
    below: list[str],
) -> str | None:
    """File one directory entry at ``path``: a folder to walk goes to ``below``; returns
    why it is skipped, ``_ARTICLE`` for an article file to list, or None."""
    # A character is at most 4 bytes in the file system's encoding: only a path
    # longer than a quarter of the limit needs encoding to be measured.
    if len(path) > MAX_PATH_BYTES // 4 and len(os.fsencode(path)) > MAX_PATH_BYTES:
        return f"skipped: the path is over {MAX_PATH_BYTES:,} bytes long"
    try:
        is_folder = entry.is_dir(follow_symlinks=False)
    except OSError as e:
        return f"skipped: {e.strerror or e}"
    if is_folder:
        if depth + 1 > MAX_FOLDER_DEPTH:
            return f"folder skipped: nested over {MAX_FOLDER_DEPTH} levels below the source"
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as e:
            return f"folder skipped: {e.strerror or e}"
        if (info.st_dev, info.st_ino) in seen:
            return "folder skipped: it is a folder already walked (a loop)"
        seen.add((info.st_dev, info.st_ino))
        below.append(path)
        return None
    return _ARTICLE if entry.name.lower().endswith(ARTICLE_SUFFIXES) else None
