"""Front matter → Article: every field checked, cleaned and typed.

Every problem that makes a file unusable is a SourceError naming the file
and, where known, the line; lesser ones (an image with a bad URL) are notes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TypeGuard
from urllib.parse import quote, urlsplit

from ..errors import SourceError
from ..model import Article, ArticleKind, Image, Provider, Related
from ..text import clean_text, shorten, strip_xml_illegal
from .frontmatter import FrontMatter, parse_front_matter

# http(s), a DNS host without port or userinfo, then printable ASCII that is
# never white space nor one of " < > \ ` : the common URL, checked in one match.
_PLAIN_HTTP_URL = re.compile(
    r"https?://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?:[/?#][!#-;=?-\[\]-_a-z{|}~]*)?"
)
_DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
# What a key keeps of a file name unquoted (RFC 4151's tag specific part, as quote() sees
# it): ASCII letters and digits, and these.
_KEY_SAFE_MARKS = "-._~!$()*+,;=:@"
_KEY_SAFE = re.compile(r"[A-Za-z0-9\-._~!$()*+,;=:@]*")
_HAS_YEAR = re.compile(r"\d{4}")
# Never valid in a URL (RFC 3986 § 2) and only ever seen in mangled or hostile
# data; a backslash is read as "/" by browsers, so its meaning is unclear too.
_URL_FORBIDDEN = frozenset('"<>\\`')
_MAX_NUMBER = 10**15
_RFC822_ZONES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip
# Each topic is a feed of its own, four files: one file must not make thousands.
MAX_TOPICS = 20
MAX_NOTES = 5  # per file
# What one article may bring into every feed it is in; more is cut, with a note.
# Lists are cut before their items are read, so aliases repeating one large
# value thousands of times cost nothing.
MAX_TITLE_CHARS = 500
MAX_EXCERPT_CHARS = 5_000
MAX_NAME_CHARS = 200  # provider and topic names
MAX_HTML_CHARS = 100_000  # featuredContent
MAX_URL_CHARS = 4_096
MAX_IMAGES = 10
MAX_RELATED = 20
_TOPICS_READ = MAX_TOPICS * 5  # names looked at, duplicates and blanks included


# --------------------------------------------------------------------------- fields


class _Fields:
    """Typed access to one front-matter mapping, with messages that name the line."""

    def __init__(self, front: FrontMatter, display: str):
        self.data = front.data
        self.front = front
        self.display = display

    def error(self, key: str, message: str) -> SourceError:
        return SourceError(self.display, message, self.front.line_of(key))

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
        if value.__class__ is int and -_MAX_NUMBER < value < _MAX_NUMBER:
            return value  # the usual case: what round() gives
        if value is None or value == "":
            return 0
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = float(value.strip())
        if number is None or number != number or abs(number) == float("inf"):
            raise self.error(key, f"{key} must be a number, got {_describe(value)}")
        if abs(number) >= _MAX_NUMBER:
            raise self.error(key, f"{key} is out of range: {_describe(value)}")
        return round(number)


def parse_article(
    text: str,
    path: str | Path,
    display: str,
    notes: list[str] | None = None,
    *,
    digest: str = "",
    raw: bytes | None = None,
) -> Article:
    """Turn one article file's text into an Article.

    ``notes`` collects non-fatal remarks (an image dropped for a bad URL).
    ``digest`` is the article's (a hash of what it was parsed from);
    ``raw``, the file's bytes if the caller has them, spares encoding the
    front matter again to screen it.

    Raises:
        SourceError: the file cannot become an article; the message says why.
    """
    notes = notes if notes is not None else []
    first_note = len(notes)
    front = parse_front_matter(text, display, raw)
    data = front.data
    f = _Fields(front, display)

    title = clean_text(f.text("title", data.get("title"), required=True))
    if not _visible(title):
        raise f.error("title", "title is empty")
    title = _cut(title, MAX_TITLE_CHARS, notes, display, "the title")

    url = _article_url(f)
    date_key = "publishedDateTime" if data.get("publishedDateTime") is not None else "date"
    published = parse_date(f, date_key, data.get(date_key))

    draft_value = data.get("published", True)
    draft = not _truthy(f, "published", draft_value)

    kind = data.get("type")
    # (Other types are published as articles: nothing else is shown differently.)
    is_video = isinstance(kind, str) and clean_text(kind.strip().lower()) == ArticleKind.VIDEO

    provider = _provider(f, data.get("provider"), url, notes)
    topics = _topics(f, data.get("topics"), notes)
    images = _images(f, "images", data.get("images"), notes)
    related = _related(f, data.get("related"), notes)
    if len(notes) - first_note > MAX_NOTES:  # a thousand bad images are one problem
        more = len(notes) - first_note - MAX_NOTES
        notes[first_note + MAX_NOTES :] = [f"{display}: and {more:,} more like these"]

    return Article(
        key=_article_key(path, published),
        path=display,
        title=title,
        url=url,
        published=published,
        quality=f.number("quality", data.get("quality")),
        heat=f.number("heat", data.get("heat")),
        kind=ArticleKind.VIDEO if is_video else ArticleKind.ARTICLE,
        excerpt=_cut(
            clean_text(f.text("excerpt", data.get("excerpt"))),
            MAX_EXCERPT_CHARS,
            notes,
            display,
            "the excerpt",
        ),
        featured_html=_cut_html(
            strip_xml_illegal(f.text("featuredContent", data.get("featuredContent"))),
            notes,
            display,
        ),
        provider=provider,
        topics=topics,
        images=images,
        related=related,
        draft=draft,
        digest=digest,
    )


def _cut(text: str, limit: int, notes: list[str], display: str = "", what: str = "") -> str:
    """``text`` within ``limit`` characters, ending with an ellipsis if cut (with a
    note on ``what`` of ``display``, if named: the note is worded only then)."""
    if len(text) <= limit:
        return text
    if what:
        notes.append(f"{display}: {what} is {len(text):,} characters long; cut to {limit:,}")
    return text[: limit - 1].rstrip() + "…"


def _cut_html(html: str, notes: list[str], display: str) -> str:
    # Cut HTML is mended when sanitized (open elements are closed).
    if len(html) <= MAX_HTML_CHARS:
        return html
    notes.append(
        f"{display}: featuredContent is {len(html):,} characters long; cut to {MAX_HTML_CHARS:,}"
    )
    return html[:MAX_HTML_CHARS]


def _visible(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces, controls and format characters."""
    if text.isascii():  # cleaned text: no controls left, spaces folded and stripped
        return bool(text)
    return any(unicodedata.category(c)[0] not in "ZC" for c in text)


def _article_key(path: str | Path, published: datetime) -> str:
    """``<date>:<name>`` from the file name, the Jekyll way; the date falls back to publication.

    Percent-encoded to the characters a ``tag:`` URI's specific part allows (RFC 4151),
    from the name's bytes, so a name that is not UTF-8 still gives a key.
    """
    stem = os.path.splitext(os.path.basename(path))[0]
    match = _DATED_NAME.match(stem)
    day = match.group(1) if match else published.date().isoformat()
    name = match.group(2) if match else stem
    if _KEY_SAFE.fullmatch(name) is None:  # else quoting would give the name as it is
        name = quote(os.fsencode(name), safe=_KEY_SAFE_MARKS)
    return f"{day}:{name}"


def _article_url(f: _Fields) -> str:
    for key in ("webUrl", "originalUrl", "url"):
        value = f.data.get(key)
        if value is None or value == "":
            continue
        url = f.text(key, value).strip()
        problem = url_problem(url)
        if problem:
            raise f.error(key, f"{key} {problem}: {_shown(url)}")
        return url
    raise SourceError(f.display, "no usable URL: webUrl and originalUrl are both missing")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link in a feed, or None if it can.

    Only http(s) with a host; no white space, control, format (bidi, zero-width),
    surrogate or unassigned characters, none of ``" < > \\ ` ``; IRIs are fine.
    """
    if len(url) > MAX_URL_CHARS:
        return f"is over {MAX_URL_CHARS:,} characters long"
    if _PLAIN_HTTP_URL.fullmatch(url):
        return None  # the usual case, without urlsplit's cost
    plain = url.isascii() and url.isprintable() and " " not in url
    if not plain and any(unicodedata.category(c)[0] in "ZC" for c in url):
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
    if not _URL_FORBIDDEN.isdisjoint(url):
        return 'holds characters a URL cannot (" < > \\ `)'
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
            # No date needs 100 characters; dateutil takes seconds on a long one.
            if len(raw) > 100 or not _HAS_YEAR.search(raw):
                raise f.error(key, f"{key} is not a date: {shorten(raw)!r}") from None
            from dateutil import parser as dateparser  # only for the rare non-ISO date

            try:
                parsed = dateparser.parse(raw, default=datetime(2000, 1, 1), tzinfos=_zone)
            except _UnknownZoneError as e:
                raise f.error(key, f"{key} has an unknown time zone: {shorten(raw)!r}") from e
            except (ValueError, OverflowError) as e:
                raise f.error(key, f"{key} is not a date: {shorten(raw)!r}") from e
    else:
        raise f.error(key, f"{key} must be a date, got {_describe(value)}")
    try:
        if parsed.tzinfo is UTC:
            return parsed  # the usual '…Z': already what astimezone(UTC) would give
        if parsed.tzinfo is None or parsed.tzinfo.utcoffset(parsed) is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as e:
        raise f.error(key, f"{key} is out of range: {shorten(str(value))!r}") from e


class _UnknownZoneError(ValueError):
    pass


def _zone(name: str | None, offset: int | None) -> tzinfo | None:
    """Time zones for dateutil: offsets, UTC and the zone names of RFC 822 § 5, nothing else.

    Left to itself, dateutil reads a name it does not know as no zone at all (with
    a warning), and a name of the machine's own zone as local time, so the same
    file would give different dates on different machines.
    """
    if offset is not None:
        return timezone(timedelta(seconds=offset))  # ValueError beyond ±24 h
    if name is None:
        return None
    hours = _RFC822_ZONES.get(name.upper())
    if hours is None:
        raise _UnknownZoneError(name)
    return timezone(timedelta(hours=hours))


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


def _provider(f: _Fields, value: object, url: str, notes: list[str]) -> Provider | None:
    if isinstance(value, dict):
        usual = _usual_provider_of(value)
        if usual is not None:
            return usual
    return _any_provider(f, value, url, notes)


def _any_provider(f: _Fields, value: object, url: str, notes: list[str]) -> Provider | None:
    """The general path: any value, each problem worded."""
    if value is None:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        return Provider(name=host, domain=host) if host else None
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise f.error("provider", f"provider must be a mapping, got {_describe(value)}")
    name = _name(f.text("provider", value.get("name")))
    domain = _name(f.text("provider", value.get("domain"))).lower().strip(".")
    if not domain:
        domain = (urlsplit(url).hostname or "").removeprefix("www.")
    if not name:
        name = domain
    if not name:
        return None
    logos = _images(f, "provider", value.get("images"), notes)
    return Provider(name=name, domain=domain, logo=logos[0].url if logos else None)


def _usual_provider_of(value: dict[object, object]) -> Provider | None:
    """The usual provider mapping's Provider (text name and domain, at most one logo),
    as the general path in ``_provider`` makes it; None if that path must decide."""
    name = value.get("name")
    domain = value.get("domain")
    logos = value.get("images")
    # Short text only: the cache keeps what it is given (a hostile file's megabyte name too).
    if not (_is_short(name, MAX_NAME_CHARS) and _is_short(domain, MAX_NAME_CHARS)):
        return None
    if logos is None:
        return _usual_provider(name, domain, None)
    if logos.__class__ is not list or len(logos) != 1:
        return None
    logo = logos[0]
    url = logo.get("url") if logo.__class__ is dict else None
    return _usual_provider(name, domain, url) if _is_short(url, MAX_URL_CHARS) else None


def _is_short(value: object, limit: int) -> TypeGuard[str]:
    return value.__class__ is str and len(value) <= limit


@functools.lru_cache(maxsize=256)
def _usual_provider(name: str, domain: str, logo: str | None) -> Provider | None:
    """``_provider``'s Provider for these values, or None where it would need the article's
    URL (no domain) or word a note (a bad logo URL). Cached: a site's providers repeat."""
    domain = _name(domain).lower().strip(".")
    if not domain:
        return None
    if logo is not None:
        logo = logo.strip()
        if url_problem(logo) is not None:
            return None
    return Provider(name=_name(name) or domain, domain=domain, logo=logo)


def _topics(f: _Fields, value: object, notes: list[str]) -> tuple[str, ...]:
    if isinstance(value, list) and len(value) <= MAX_TOPICS:
        listed = tuple(value)
        if all(_is_short(name, MAX_NAME_CHARS) for name in listed):
            return _topic_names(listed)  # too few to be cut, no item to refuse: no note
    return _any_topics(f, value, notes)


def _any_topics(f: _Fields, value: object, notes: list[str]) -> tuple[str, ...]:
    """The general path: any value, each problem worded."""
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise f.error("topics", f"topics must be a list of names, got {_describe(value)}")
    names: dict[str, None] = {}  # ordered, and membership in constant time
    for item in value[:_TOPICS_READ]:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise f.error(
                "topics", f"topics must be a list of names, got an item {_describe(item)}"
            )
        name = _name(str(item))
        if name:
            names[name] = None
        if len(names) > MAX_TOPICS:
            break
    if len(names) > MAX_TOPICS:
        notes.append(
            f"{f.display}: {len(value):,} topics; only the first {MAX_TOPICS} are published"
        )
    return tuple(names)[:MAX_TOPICS]


def _topic_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Topic names cleaned, blanks and repeats left out, in order."""
    cleaned = dict.fromkeys(map(_topic_name, names))
    cleaned.pop("", None)
    return tuple(cleaned)


@functools.lru_cache(maxsize=1024)
def _topic_name(name: str) -> str:
    """A topic's ``_name``. Cached: a site's articles draw on a few hundred topics."""
    return _name(name)


def _name(text: str) -> str:
    """A cleaned name of at most MAX_NAME_CHARS (read from a bounded prefix: cheap however long)."""
    return clean_text(text[: MAX_NAME_CHARS * 8])[:MAX_NAME_CHARS].rstrip()


def _images(f: _Fields, key: str, value: object, notes: list[str]) -> tuple[Image, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [{"url": value}]
    if not isinstance(value, list):
        raise f.error(key, f"{key} must be a list of images, got {_describe(value)}")
    what = "an image" if key == "images" else f"a {key} logo"
    if len(value) > MAX_IMAGES:
        plural = "images" if key == "images" else f"{key} logos"
        notes.append(f"{f.display}: {len(value):,} {plural}; only the first {MAX_IMAGES} are read")
    images: list[Image] = []
    for item in value[:MAX_IMAGES]:
        raw = item.get("url") if isinstance(item, dict) else item
        if not isinstance(raw, str):
            notes.append(f"{f.display}: {what} without a URL was left out")
            continue
        url = raw.strip()
        problem = url_problem(url)
        if problem:
            notes.append(f"{f.display}: {what} was left out, its URL {problem}: {_shown(url)}")
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
    if len(value) > MAX_RELATED:
        notes.append(
            f"{f.display}: {len(value):,} related stories; only the first {MAX_RELATED} are read"
        )
    stories: list[Related] = []
    for item in value[:MAX_RELATED]:
        if not isinstance(item, dict):
            notes.append(f"{f.display}: a related story that is not a mapping was left out")
            continue
        title = item.get("title")
        url = item.get("webUrl") or item.get("originalUrl") or item.get("url")
        title = _cut(clean_text(title), MAX_TITLE_CHARS, []) if isinstance(title, str) else None
        if not title or not isinstance(url, str):
            notes.append(f"{f.display}: a related story without a title or a URL was left out")
            continue
        url = url.strip()
        problem = url_problem(url)
        if problem:
            notes.append(
                f"{f.display}: a related story was left out, its URL {problem}: {_shown(url)}"
            )
            continue
        provider = item.get("provider")
        provider_name = provider.get("name") if isinstance(provider, dict) else provider
        try:  # a related story's date is a bonus: a bad one only goes unshown
            when = parse_date(f, "related", item.get("publishedDateTime"))
        except SourceError:
            when = None
        stories.append(
            Related(
                title=title,
                url=url,
                provider=_name(provider_name) if isinstance(provider_name, str) else None,
                published=when,
            )
        )
    return tuple(stories)


def _describe(value: object) -> str:
    """A short description of a YAML value for a message; never a repr of a container.

    (Printing a container could expand an alias bomb the size checks never walked.)
    """
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, set | frozenset):
        return "a set"
    if isinstance(value, str):
        return repr(shorten(value))
    if isinstance(value, int | float):
        return f"the number {shorten(str(value))}"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__}"


def _shown(text: str) -> str:
    """``text`` shortened, with invisible characters escaped: a bidi override
    quoted in a message would otherwise turn the rest of the terminal line around."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return shorten(text)
