"""Find article files, split their front matter, and turn YAML into Articles.

Every problem with one file becomes a SourceError naming the file and, where
known, the line; loading collects them and goes on, so one bad file never
costs the others.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlsplit

import yaml

from .cache import PARSER_VERSION, payload_of
from .errors import SourceError
from .model import Article, Image, Provider, Rejection, Related, Topic
from .text import clean_text, strip_xml_illegal
from .yamlload import load_yaml

ARTICLE_SUFFIXES = (".md", ".markdown")
MAX_YAML_NODES = 100_000  # far above any real article; stops alias ("billion laughs") bombs
MAX_YAML_DEPTH = 64

_BaseLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # libyaml: ~10x faster than the pure-Python loader
except AttributeError:  # pragma: no cover - only where PyYAML was built without libyaml
    _BaseLoader = yaml.SafeLoader


class _FrontMatterLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that leaves timestamps as strings.

    Dates are parsed by us, so a bad one (month 13) is a clean message with a
    line instead of PyYAML's bare ValueError, and naive/offset forms are
    handled in one place.
    """


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

# C0/C1 controls: YAML refuses them in a stream and XML 1.0 cannot carry most of
# them, so they are dropped before parsing rather than costing the article.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.M)
_PLAIN_HTTP_URL = re.compile(
    r"https?://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?:[/?#][!-~]*)?"
)
_URL_JUNK = re.compile(r"[\s\x00-\x1f\x7f]")
_DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_HAS_YEAR = re.compile(r"\d{4}")


class SourceFile(NamedTuple):
    """An article file to load: where it is, how to name it, and its stat when listed.

    A NamedTuple, not a dataclass: one is made per file on every run.
    """

    path: str | Path
    display: str
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """What loading one file gave: an article, or the reason it has none."""

    article: Article | None
    rejection: Rejection | None
    notes: tuple[str, ...] = ()
    sha1: str = ""  # of the file's bytes, for the cache
    payload: str = ""  # the article's heavy fields as the cache stores them


# --------------------------------------------------------------------------- discovery


def find_sources(source: Path) -> tuple[list[SourceFile], Path | None]:
    """List the article files of a source, and its site root if it is one.

    A site root is a folder holding ``_news/``; its ``_data/`` then holds the
    taxonomy. Otherwise every ``*.md`` below the folder is an article. Hidden
    files and folders are passed over; the order is sorted, never the file
    system's.

    Raises:
        SourceError: the source does not exist or cannot be listed.
    """
    if source.is_file():
        info = source.stat()
        return [SourceFile(source, str(source), info.st_size, info.st_mtime_ns)], None
    if not source.is_dir():
        raise SourceError(source, "source folder does not exist")
    site_root: Path | None = None
    articles_dir = source
    if (source / "_news").is_dir():
        site_root, articles_dir = source, source / "_news"
    files: list[SourceFile] = []
    try:
        _walk(str(articles_dir), files)
    except OSError as e:
        raise SourceError(source, f"cannot list source folder: {e.strerror or e}") from e
    files.sort(key=lambda f: f.display)
    return files, site_root


def _walk(folder: str, files: list[SourceFile]) -> None:
    """Collect article files below ``folder`` with their stat (strings: pathlib is slow here)."""
    with os.scandir(folder) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            _walk(entry.path, files)
        elif entry.name.lower().endswith(ARTICLE_SUFFIXES):
            try:
                info = entry.stat()
            except OSError:
                files.append(SourceFile(entry.path, entry.path))  # loading will say why
                continue
            files.append(SourceFile(entry.path, entry.path, info.st_size, info.st_mtime_ns))


# --------------------------------------------------------------------------- one file


def load_file(source: SourceFile, max_bytes: int) -> LoadedFile:
    """Load one article file; never raises for anything wrong with the file."""
    notes: list[str] = []
    sha1 = ""
    try:
        data = read_bytes(source.path, source.display, max_bytes)
        sha1 = hashlib.sha1(data).hexdigest()  # the article is a function of these bytes
        text = decode_text(data, source.display)
        article = parse_article(text, source.path, source.display, notes)
    except SourceError as e:
        return LoadedFile(None, Rejection(source.display, e.reason, e.line), (), sha1)
    digest = f"{PARSER_VERSION}:{sha1}"
    return LoadedFile(
        replace(article, digest=digest), None, tuple(notes), sha1, payload_of(article)
    )


def read_text(path: Path, display: str, max_bytes: int) -> str:
    """Read a file as UTF-8 (a BOM is allowed), refusing what is not text.

    Raises:
        SourceError: unreadable, too large, empty, binary or not UTF-8.
    """
    return decode_text(read_bytes(path, display, max_bytes), display)


def read_bytes(path: str | Path, display: str, max_bytes: int) -> bytes:
    """Read a file whole, refusing one over ``max_bytes`` before reading it.

    Raises:
        SourceError: unreadable or too large.
    """
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise SourceError(
                    display,
                    f"file is {size:,} bytes, over the limit of {max_bytes:,} (max_file_bytes)",
                )
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise SourceError(display, f"cannot read file: {e.strerror or e}") from e
    if len(data) > max_bytes:
        raise SourceError(display, f"file grew over the limit of {max_bytes:,} bytes while read")
    return data


def decode_text(data: bytes, display: str) -> str:
    """UTF-8 text (a BOM is allowed) from a file's bytes.

    Raises:
        SourceError: empty, binary or not UTF-8.
    """
    if not data.strip():
        raise SourceError(display, "empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SourceError(display, f"binary file, not text (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise SourceError(
            display, f"not UTF-8 text: invalid byte 0x{data[e.start]:02x} at offset {e.start}", line
        ) from e


def split_front_matter(text: str, display: str) -> tuple[str, int]:
    """Return the YAML between the ``---`` fences and the line it starts on.

    Raises:
        SourceError: no opening fence, or no closing one.
    """
    first_line_end = text.find("\n")
    first_line = text if first_line_end < 0 else text[:first_line_end]
    if first_line.rstrip("\r \t") != "---":
        raise SourceError(display, "no front matter: the file must start with a '---' line", 1)
    if first_line_end < 0:
        raise SourceError(display, "front matter is not closed by a '---' line", 1)
    start = first_line_end + 1
    fence = _FENCE.search(text, start)
    if fence is None:
        raise SourceError(display, "front matter is not closed by a '---' line", 1)
    return text[start : fence.start()], 2


def parse_front_matter(text: str, display: str) -> tuple[Mapping[str, object], str, int]:
    """Parse a file's front matter into a mapping.

    Raises:
        SourceError: the YAML is malformed, unsafe, too large, or not a mapping.
    """
    block, first_line = split_front_matter(text, display)
    if _CONTROL_CHARS.search(block):
        block = _CONTROL_CHARS.sub("", block)
    try:
        data = load_yaml(block, _FrontMatterLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = first_line + mark.line if mark is not None else None
        problem = e.problem or e.context or "malformed YAML"
        raise SourceError(display, f"YAML error in front matter: {problem}", line) from e
    except yaml.YAMLError as e:
        raise SourceError(display, f"YAML error in front matter: {e}", first_line) from e
    except (ValueError, TypeError, OverflowError) as e:
        # PyYAML raises plain ValueError for explicitly tagged values it cannot build.
        raise SourceError(display, f"front matter has a value that cannot be read: {e}") from e
    except RecursionError as e:
        raise SourceError(display, "front matter is nested too deeply") from e
    if data is None:
        raise SourceError(display, "front matter is empty", first_line)
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise SourceError(
            display, f"front matter must be a mapping of keys, got a {kind}", first_line
        )
    if "*" in block:  # only aliases can make a document expand past its own size
        _check_size(data, display)
    return data, block, first_line


def _check_size(data: object, display: str) -> None:
    """Refuse documents whose expansion is huge (aliases) or absurdly deep.

    Aliases make YAML a graph: a few lines can name billions of nodes. The walk
    stops at a node budget, so it costs bounded time whatever the document.
    """
    budget = MAX_YAML_NODES
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise SourceError(display, f"front matter expands to over {MAX_YAML_NODES:,} values")
        if depth > MAX_YAML_DEPTH:
            raise SourceError(display, f"front matter is nested over {MAX_YAML_DEPTH} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


# --------------------------------------------------------------------------- fields


class _Fields:
    """Typed access to one front-matter mapping, with messages that name the line."""

    def __init__(self, data: Mapping[str, object], block: str, first_line: int, display: str):
        self.data = data
        self.block = block
        self.first_line = first_line
        self.display = display

    def error(self, key: str, message: str) -> SourceError:
        return SourceError(self.display, message, self.line_of(key))

    def line_of(self, key: str) -> int | None:
        match = re.search(rf"^{re.escape(key)}[ \t]*:", self.block, re.M)
        if match is None:
            return None
        return self.first_line + self.block.count("\n", 0, match.start())

    def text(self, key: str, value: object, *, required: bool = False) -> str:
        if value is None:
            if required:
                raise self.error(key, f"{key} is missing")
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self.error(key, f"{key} must be text, got {_describe(value)}")

    def number(self, key: str, value: object) -> int:
        if value is None or value == "":
            return 0
        if isinstance(value, bool):
            raise self.error(key, f"{key} must be a number, got {_describe(value)}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value == value and abs(value) < 1e15:
            return round(value)
        if isinstance(value, str):
            try:
                return round(float(value.strip()))
            except (ValueError, OverflowError):
                pass
        raise self.error(key, f"{key} must be a number, got {_describe(value)}")


def parse_article(
    text: str, path: str | Path, display: str, notes: list[str] | None = None
) -> Article:
    """Turn one article file's text into an Article.

    ``notes`` collects non-fatal remarks (an image dropped for a bad URL).

    Raises:
        SourceError: the file cannot become an article; the message says why.
    """
    notes = notes if notes is not None else []
    data, block, first_line = parse_front_matter(text, display)
    f = _Fields(data, block, first_line, display)

    title = clean_text(f.text("title", data.get("title"), required=True))
    if not title:
        raise f.error("title", "title is empty")

    url = _article_url(f)
    date_key = "publishedDateTime" if data.get("publishedDateTime") is not None else "date"
    published = parse_date(f, date_key, data.get(date_key))

    draft_value = data.get("published", True)
    draft = not _truthy(f, "published", draft_value)

    kind = data.get("type")
    kind_text = kind.strip().lower() if isinstance(kind, str) and kind.strip() else "article"

    provider = _provider(f, data.get("provider"), url)
    topics = _topics(f, data.get("topics"))
    images = _images(f, "images", data.get("images"), notes)
    related = _related(f, data.get("related"), notes)

    return Article(
        key=_article_key(path, published),
        path=display,
        title=title,
        url=url,
        published=published,
        quality=f.number("quality", data.get("quality")),
        heat=f.number("heat", data.get("heat")),
        kind=clean_text(kind_text)[:40] or "article",
        excerpt=clean_text(f.text("excerpt", data.get("excerpt"))),
        featured_html=strip_xml_illegal(f.text("featuredContent", data.get("featuredContent"))),
        provider=provider,
        topics=topics,
        images=images,
        related=related,
        draft=draft,
    )


def _article_key(path: str | Path, published: datetime) -> str:
    """``<date>:<name>`` from the file name, the Jekyll way; the date falls back to publication.

    Percent-encoded to the characters a ``tag:`` URI's specific part allows (RFC 4151).
    """
    stem = os.path.splitext(os.path.basename(path))[0]
    match = _DATED_NAME.match(stem)
    day = match.group(1) if match else published.date().isoformat()
    name = match.group(2) if match else stem
    return f"{day}:{quote(name, safe='-._~!$()*+,;=:@')}"


def _article_url(f: _Fields) -> str:
    for key in ("webUrl", "originalUrl", "url"):
        value = f.data.get(key)
        if value is None or value == "":
            continue
        url = f.text(key, value).strip()
        problem = url_problem(url)
        if problem:
            raise f.error(key, f"{key} {problem}: {_short(url)}")
        return url
    raise SourceError(f.display, "no usable URL: webUrl and originalUrl are both missing")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link in a feed, or None if it can."""
    if _PLAIN_HTTP_URL.fullmatch(url):
        return None  # the common case, without urlsplit's cost
    if _URL_JUNK.search(url):
        return "holds spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "is not an http(s) URL"
    if not host:
        return "has no host"
    return None


def parse_date(f: _Fields, key: str, value: object) -> datetime:
    """A timezone-aware UTC datetime; naive input is declared UTC."""
    if value is None or value == "":
        raise SourceError(f.display, "publishedDateTime is missing (no publication date)")
    parsed: datetime
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        raw = value.strip()
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            if not _HAS_YEAR.search(raw):
                raise f.error(key, f"{key} is not a date: {_short(raw)!r}") from None
            from dateutil import parser as dateparser  # only for the rare non-ISO date

            try:
                parsed = dateparser.parse(raw, default=datetime(2000, 1, 1))
            except (ValueError, OverflowError) as e:
                raise f.error(key, f"{key} is not a date: {_short(raw)!r}") from e
    else:
        raise f.error(key, f"{key} must be a date, got {_describe(value)}")
    try:
        if parsed.tzinfo is None or parsed.tzinfo.utcoffset(parsed) is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as e:
        raise f.error(key, f"{key} is out of range: {_short(str(value))!r}") from e


def _truthy(f: _Fields, key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return True
    if isinstance(value, str) and value.strip().lower() in (
        "true",
        "yes",
        "on",
        "1",
        "false",
        "no",
        "off",
        "0",
    ):
        return value.strip().lower() in ("true", "yes", "on", "1")
    if isinstance(value, int):
        return value != 0
    raise f.error(key, f"{key} must be true or false, got {_describe(value)}")


def _provider(f: _Fields, value: object, url: str) -> Provider | None:
    if value is None:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        return Provider(name=host, domain=host) if host else None
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise f.error("provider", f"provider must be a mapping, got {_describe(value)}")
    name = clean_text(f.text("provider", value.get("name")))
    domain = clean_text(f.text("provider", value.get("domain"))).lower().strip(".")
    if not domain:
        domain = (urlsplit(url).hostname or "").removeprefix("www.")
    if not name:
        name = domain
    if not name:
        return None
    logos = _images(f, "provider", value.get("images"), [])
    return Provider(name=name, domain=domain, logo=logos[0].url if logos else None)


def _topics(f: _Fields, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise f.error("topics", f"topics must be a list of names, got {_describe(value)}")
    names: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise f.error(
                "topics", f"topics must be a list of names, got an item {_describe(item)}"
            )
        name = clean_text(str(item))
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _images(f: _Fields, key: str, value: object, notes: list[str]) -> tuple[Image, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [{"url": value}]
    if not isinstance(value, list):
        raise f.error(key, f"{key} must be a list of images, got {_describe(value)}")
    images: list[Image] = []
    for item in value:
        raw = item.get("url") if isinstance(item, dict) else item
        if not isinstance(raw, str):
            notes.append(f"{f.display}: an image without a URL was left out")
            continue
        url = raw.strip()
        problem = url_problem(url)
        if problem:
            notes.append(f"{f.display}: image left out, its URL {problem}: {_short(url)}")
            continue
        width = item.get("width") if isinstance(item, dict) else None
        height = item.get("height") if isinstance(item, dict) else None
        images.append(Image(url=url, width=_dimension(width), height=_dimension(height)))
    return tuple(images)


def _dimension(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000:
        return value
    return None


def _related(f: _Fields, value: object, notes: list[str]) -> tuple[Related, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise f.error("related", f"related must be a list of stories, got {_describe(value)}")
    stories: list[Related] = []
    for item in value:
        if not isinstance(item, dict):
            notes.append(f"{f.display}: a related story that is not a mapping was left out")
            continue
        title = item.get("title")
        url = item.get("webUrl") or item.get("originalUrl") or item.get("url")
        if not isinstance(title, str) or not isinstance(url, str) or url_problem(url.strip()):
            notes.append(
                f"{f.display}: a related story without a title or a usable URL was left out"
            )
            continue
        provider = item.get("provider")
        provider_name = provider.get("name") if isinstance(provider, dict) else provider
        stories.append(
            Related(
                title=clean_text(title),
                url=url.strip(),
                provider=clean_text(provider_name) if isinstance(provider_name, str) else None,
            )
        )
    return tuple(stories)


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(_short(value))
    return f"{type(value).__name__} {_short(repr(value))}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- taxonomy files


def load_topics(site_root: Path, notes: list[str]) -> list[Topic]:
    """Read ``_data/topics/*.yaml``; a bad file is a note, never fatal."""
    topics: list[Topic] = []
    folder = site_root / "_data" / "topics"
    if not folder.is_dir():
        return topics
    for path in sorted(folder.glob("*.y*ml")):
        try:
            data = yaml.load(read_text(path, str(path), 1 << 20), Loader=_FrontMatterLoader)
        except SourceError as e:
            notes.append(str(e))
            continue
        except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
            notes.append(f"{path}: taxonomy file is not valid YAML: {e}")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            notes.append(f"{path}: taxonomy file has no topic name; left out")
            continue
        slug = data.get("_id")
        keywords = data.get("keywords")
        topics.append(
            Topic(
                slug=slug if isinstance(slug, str) else "",
                name=clean_text(data["name"]),
                description=clean_text(str(data.get("description") or "")),
                keywords=tuple(str(k) for k in keywords) if isinstance(keywords, list) else (),
            )
        )
    return topics


def load_organizations(site_root: Path, notes: list[str]) -> list[Provider]:
    """Read ``_data/organizations/*.md`` (front matter only); bad files are notes."""
    providers: list[Provider] = []
    folder = site_root / "_data" / "organizations"
    if not folder.is_dir():
        return providers
    for path in sorted(folder.glob("*.md")):
        try:
            data, _, _ = parse_front_matter(read_text(path, str(path), 1 << 20), str(path))
        except SourceError as e:
            notes.append(str(e))
            continue
        name, domain = data.get("name"), data.get("domain") or data.get("_id")
        if not isinstance(name, str) or not isinstance(domain, str):
            notes.append(f"{path}: organization has no name or domain; left out")
            continue
        images = data.get("images")
        logo = None
        if isinstance(images, list) and images and isinstance(images[0], dict):
            candidate = images[0].get("url")
            if isinstance(candidate, str) and url_problem(candidate) is None:
                logo = candidate
        providers.append(Provider(name=clean_text(name), domain=domain.strip().lower(), logo=logo))
    return providers
