"""What a deploy must do: pure functions from the local folder and the bucket's state to a plan.

A file is uploaded when the bucket has no object for it, or one whose
content hash or headers differ. The plan orders uploads so a reader never
sees a feed before what it links to (Phase), and deletes only what the
output folder no longer holds, hidden files never.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path, PurePosixPath

from ..errors import DeployError
from ..render import RENDERERS
from ..render.stylesheet import STYLESHEET_NAME
from ..servefiles import content_type  # the table `serve` uses
from .settings import FileKind

_FEED_NAMES = frozenset(r.filename for r in RENDERERS)
_DISCOVERY = frozenset({"index.html", "index.opml"})
_ARCHIVE = re.compile(r"^(?P<home>(?:.*/)?)archive/(?P<page>[0-9]+)/[^/]+$")


class Phase(IntEnum):
    """Upload order: each phase only links to files of earlier ones (or to itself)."""

    ARCHIVES = 0  # archive pages, the stylesheet and any other file
    FEEDS = 1  # each topic's and provider's feeds and page
    SITE_FEEDS = 2  # the site's own feeds, which link to the archive pages
    DISCOVERY = 3  # index.html and index.opml, which list every feed


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file of the output folder, as it should be in the bucket."""

    path: str  # below the output folder, with "/"
    sha256: str
    size: int
    kind: FileKind
    phase: Phase
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """An object of the bucket, as far as feedpub knows it (hash and headers, when known)."""

    path: str  # below the prefix
    size: int
    etag: str
    sha256: str | None = None
    content_type: str | None = None
    cache_control: str | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    file: LocalFile
    reason: str  # "new", "changed" (bytes) or "headers" (same bytes, new headers)


@dataclass(frozen=True, slots=True)
class Plan:
    uploads: tuple[Upload, ...]  # in Phase order, then by path
    unchanged: tuple[str, ...]
    deletes: tuple[str, ...]


def is_hidden(path: str) -> bool:
    """Lock, manifest and temporary files: never uploaded, never deleted."""
    return any(part.startswith(".") for part in path.split("/")) or path.endswith(".tmp")


def classify(path: str, newest_archives: Mapping[str, int]) -> tuple[FileKind, Phase]:
    """The kind (for Cache-Control) and upload phase of a file, from its path."""
    name = PurePosixPath(path).name
    archive = _ARCHIVE.match(path)
    if archive:
        newest = newest_archives.get(archive["home"]) == int(archive["page"])
        return (FileKind.ARCHIVE_NEWEST if newest else FileKind.ARCHIVE), Phase.ARCHIVES
    top = "/" not in path
    if top and name in _DISCOVERY:
        return (FileKind.PAGE if name.endswith(".html") else FileKind.FEED), Phase.DISCOVERY
    if top and name in _FEED_NAMES:
        return FileKind.FEED, Phase.SITE_FEEDS
    if top and name == STYLESHEET_NAME:
        return FileKind.STYLESHEET, Phase.ARCHIVES
    if name in _FEED_NAMES:
        return FileKind.FEED, Phase.FEEDS
    if name == "index.html":
        return FileKind.PAGE, Phase.FEEDS
    return FileKind.OTHER, Phase.ARCHIVES


def newest_archive_pages(paths: Iterable[str]) -> dict[str, int]:
    """For each feed with archive pages (keyed by its home folder), the newest page number."""
    newest: dict[str, int] = {}
    for path in paths:
        match = _ARCHIVE.match(path)
        if match:
            newest[match["home"]] = max(newest.get(match["home"], 0), int(match["page"]))
    return newest


def scan_output(out: Path, cache_control: Mapping[FileKind, str]) -> list[LocalFile]:
    """Every file to deploy: the output folder's visible files, hashed, sorted by path.

    Symlinks are followed only to files inside the folder.

    Raises:
        DeployError: the output folder is missing or a file cannot be read.
    """
    if not out.is_dir():
        raise DeployError(f"nothing to deploy: {out} is not a folder (run `feedpub build` first)")
    root = out.resolve()
    found: list[tuple[str, Path]] = []
    for folder, subfolders, names in os.walk(root):  # never follows symlinked folders
        subfolders[:] = [s for s in subfolders if not s.startswith(".")]
        for name in names:
            full = Path(folder, name)
            path = full.relative_to(root).as_posix()
            if is_hidden(path):
                continue
            if full.is_symlink() and not full.resolve().is_relative_to(root):
                continue
            if full.is_file():
                found.append((path, full))
    newest = newest_archive_pages(path for path, _ in found)
    files: list[LocalFile] = []
    for path, full in sorted(found):
        try:
            data = full.read_bytes()
        except OSError as e:
            raise DeployError(f"cannot read {full}: {e.strerror or e}") from e
        kind, phase = classify(path, newest)
        files.append(
            LocalFile(
                path=path,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                kind=kind,
                phase=phase,
                content_type=content_type(PurePosixPath(path).name),
                cache_control=cache_control[kind],
            )
        )
    return files


def plan_deploy(local: Iterable[LocalFile], remote: Mapping[str, RemoteObject]) -> Plan:
    """Compare the folder with the bucket: what to upload, in which order, and what to delete."""
    uploads: list[Upload] = []
    unchanged: list[str] = []
    wanted: set[str] = set()
    for file in local:
        wanted.add(file.path)
        there = remote.get(file.path)
        if there is None:
            uploads.append(Upload(file, "new"))
        elif there.sha256 != file.sha256:
            uploads.append(Upload(file, "changed"))
        elif (there.content_type, there.cache_control) != (file.content_type, file.cache_control):
            uploads.append(Upload(file, "headers"))
        else:
            unchanged.append(file.path)
    uploads.sort(key=lambda u: (u.file.phase, u.file.path))
    deletes = sorted(p for p in remote if p not in wanted and not is_hidden(p))
    return Plan(tuple(uploads), tuple(sorted(unchanged)), tuple(deletes))


def trust_manifest(
    listed: Mapping[str, RemoteObject], manifest: Mapping[str, RemoteObject], wanted: set[str]
) -> tuple[dict[str, RemoteObject], list[str]]:
    """Merge the listing with the bucket's manifest: what is known, and what to ask (HEAD).

    The listing says what is there (size, ETag) but not the metadata; the
    manifest says what feedpub last put there. An entry is trusted only when
    its size and ETag agree with the listing; any other object the folder
    also holds is asked for its metadata, the source of truth. Objects the
    folder no longer holds need no question: they are deleted either way.
    """
    known: dict[str, RemoteObject] = {}
    ask: list[str] = []
    for path, obj in listed.items():
        entry = manifest.get(path)
        if entry is not None and (entry.size, entry.etag) == (obj.size, obj.etag):
            known[path] = entry
        elif path in wanted:
            ask.append(path)
        else:
            known[path] = obj
    return known, sorted(ask)
