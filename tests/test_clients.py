"""The real corpus, read by seven feed parsers in four languages besides feedparser and reader.

Python: atoma, fastfeedparser (in this process). JavaScript: rss-parser,
@extractus/feed-extractor, feedsmith (``tests/clients/read_js.mjs``, under
node). Perl: XML::Feed (``tests/clients/read_perl.pl``). Ruby: the ``rss``
library (``tests/clients/read_ruby.rb``). Each prints what it read as JSON;
this module holds every item of every feed, in every format the parser reads,
to the source files: title, link, date to the second, author and image where
the parser reads them, and no character reference left in text.

A parser that is not installed is skipped with the reason, except under
``CI=true``, where it fails. Setup: ``npm ci --prefix tests/clients`` and the
Debian packages ``nodejs npm libxml-feed-perl ruby`` (docs/feed-format.md).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import yaml

from feedpub.config import Config, FeedPolicy
from feedpub.publish import build
from tests.conftest import BASE_URL, CORPUS

CLIENTS_DIR = Path(__file__).parent / "clients"
SITE_ICON = "https://news.example.org/static/icon-64.png"
SITE_LOGO = "https://news.example.org/static/logo-512.png"
TOPIC_ICON = "https://news.example.org/static/portals.png"
# A character reference a reader would print as is: "&amp;", "&#x27;", "&#8217;"…
ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)

Seen = dict[str, dict[str, object]]  # file -> {"feed": {...}, "items": [{...}]}


@dataclass(frozen=True)
class Expected:
    title: str
    date: datetime
    author: str
    image: str | None
    excerpt: str


@dataclass(frozen=True)
class CorpusBuild:
    out: Path
    expected: dict[str, list[Expected]]  # by the story's URL; a URL two files share has two
    files: dict[str, list[Path]]  # by format: "rss", "atom", "json"


def _text(value: object) -> str:
    return " ".join(html.unescape(str(value)).split())


def _expected_stories(corpus: Path) -> dict[str, list[Expected]]:
    """What every published story is, read straight from its front matter."""
    stories: dict[str, list[Expected]] = {}
    for path in sorted((corpus / "_news").glob("*.md")):
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("---", 2)[1])
        if data.get("published") is False:
            continue
        when = data["publishedDateTime"]
        if isinstance(when, str):
            when = datetime.fromisoformat(when)
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        images = data.get("images") or []
        url = str(data.get("webUrl") or data["originalUrl"]).strip()
        stories.setdefault(url, []).append(
            Expected(
                title=_text(data["title"]),
                date=when,
                author=_text(data["provider"]["name"]),
                image=str(images[0]["url"]) if images else None,
                excerpt=_text(data.get("excerpt") or ""),
            )
        )
    return stories


@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory: pytest.TempPathFactory) -> CorpusBuild:
    corpus = CORPUS / "powerapps"
    if not (corpus / "_news").is_dir():
        pytest.skip("the shared corpus (../shared/corpus/powerapps) is not here")
    out = tmp_path_factory.mktemp("clients") / "out"
    config = Config(
        sources=(corpus,),
        out=out,
        base_url=BASE_URL,
        max_items=1000,
        title="Power Apps",
        icon=SITE_ICON,
        logo=SITE_LOGO,
        topics={"portals": FeedPolicy(icon=TOPIC_ICON)},
    )
    build(config, datetime(2026, 11, 27, tzinfo=UTC))
    files = {
        "rss": sorted(out.rglob("rss.xml")),
        "atom": sorted(out.rglob("atom.xml")),
        "json": sorted(out.rglob("feed.json")),
    }
    assert len(files["rss"]) == len(files["atom"]) == len(files["json"]) > 10
    return CorpusBuild(out, _expected_stories(corpus), files)


# --------------------------------------------------------------------------- the parsers


def _need(tool: str, why: str) -> None:
    if shutil.which(tool) is None:
        _absent(f"{tool} is not installed ({why})")


def _absent(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run every client")
    pytest.skip(reason)


def _run(command: list[str], files: list[Path]) -> Seen:
    done = subprocess.run(
        [*command, *map(str, files)], capture_output=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    seen: Seen = json.loads(done.stdout)
    return seen


def _js(client: str) -> Callable[[list[Path]], Seen]:
    def read(files: list[Path]) -> Seen:
        _need("node", "JavaScript clients")
        if not (CLIENTS_DIR / "node_modules").is_dir():
            _absent("the npm clients are not installed: npm ci --prefix tests/clients")
        return _run(["node", str(CLIENTS_DIR / "read_js.mjs"), client], files)

    return read


def _perl(files: list[Path]) -> Seen:
    _need("perl", "Perl client")
    probe = subprocess.run(["perl", "-MXML::Feed", "-e", "1"], capture_output=True, check=False)
    if probe.returncode != 0:
        _absent("Perl's XML::Feed is not installed (Debian: libxml-feed-perl)")
    return _run(["perl", str(CLIENTS_DIR / "read_perl.pl")], files)


def _ruby(files: list[Path]) -> Seen:
    _need("ruby", "Ruby client (Debian: ruby)")
    return _run(["ruby", str(CLIENTS_DIR / "read_ruby.rb")], files)


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _atoma(files: list[Path]) -> Seen:
    import atoma

    seen: Seen = {}
    for path in files:
        if path.suffix == ".json":
            j = atoma.parse_json_feed_file(str(path))
            seen[str(path)] = {
                "feed": {"title": j.title, "icon": j.icon, "favicon": j.favicon},
                "items": [
                    {
                        "title": i.title,
                        "link": i.url,
                        "date": _utc(i.date_published),
                        "author": i.author.name if i.author else None,
                        "image": i.image,
                        "summary": i.summary,
                    }
                    for i in j.items
                ],
            }
        elif path.name == "atom.xml":
            a = atoma.parse_atom_file(str(path))
            seen[str(path)] = {
                "feed": {"title": a.title.value, "icon": a.icon, "logo": a.logo},
                "items": [
                    {
                        "title": e.title.value,
                        "link": next(x.href for x in e.links if x.rel in (None, "alternate")),
                        "date": _utc(e.published),
                        "author": e.authors[0].name if e.authors else None,
                        "image": next((x.href for x in e.links if x.rel == "enclosure"), None),
                        "summary": e.summary.value if e.summary else None,
                    }
                    for e in a.entries
                ],
            }
        else:
            r = atoma.parse_rss_file(str(path))
            # atoma reads RSS <author> (an e-mail address), not dc:creator: no author.
            seen[str(path)] = {
                "feed": {"title": r.title, "icon": r.image.url if r.image else None},
                "items": [
                    {
                        "title": i.title,
                        "link": i.link,
                        "date": _utc(i.pub_date),
                        "image": i.enclosures[0].url if i.enclosures else None,
                        "summary": i.description,
                    }
                    for i in r.items
                ],
            }
    return seen


def _fastfeedparser(files: list[Path]) -> Seen:
    import fastfeedparser

    seen: Seen = {}
    for path in files:
        parsed = fastfeedparser.parse(path.read_bytes())
        feed = parsed["feed"]
        icon = feed.get("icon") or (feed.get("image") or {}).get("url")
        items = []
        for e in parsed["entries"]:
            enclosure = next(iter(e.get("enclosures") or []), None)
            link = next((x for x in e.get("links") or [] if x.get("rel") == "enclosure"), None)
            image = e.get("image") or (enclosure or {}).get("url") or (link or {}).get("href")
            items.append(
                {
                    "title": e["title"],
                    "link": e["link"],
                    "date": e.get("published"),
                    "author": e.get("author"),
                    "image": image,
                    "summary": e.get("description"),
                }
            )
        seen[str(path)] = {"feed": {"title": feed["title"], "icon": icon}, "items": items}
    return seen


@dataclass(frozen=True)
class Client:
    name: str
    language: str
    formats: tuple[str, ...]
    read: Callable[[list[Path]], Seen]
    # Formats whose summary the client takes from HTML (RSS <description> is HTML;
    # feed-extractor strips the tags of JSON Feed's content_html).
    html_summary: tuple[str, ...] = ("rss",)
    icons: tuple[str, ...] = ("rss", "atom", "json")  # formats it reads a feed icon from


CLIENTS = (
    Client("atoma", "Python", ("rss", "atom", "json"), _atoma),
    Client("fastfeedparser", "Python", ("rss", "atom", "json"), _fastfeedparser),
    Client("rss-parser", "JavaScript", ("rss", "atom"), _js("rss-parser"), icons=("rss",)),
    Client(
        "feed-extractor",
        "JavaScript",
        ("rss", "atom", "json"),
        _js("feed-extractor"),
        html_summary=("rss", "json"),
        icons=(),
    ),
    Client("feedsmith", "JavaScript", ("rss", "atom", "json"), _js("feedsmith")),
    Client("XML::Feed", "Perl", ("rss", "atom"), _perl, icons=("rss",)),
    Client("ruby-rss", "Ruby", ("rss", "atom"), _ruby),
)
CASES = [(c, f) for c in CLIENTS for f in c.formats]
ICON_CASES = [(c, f) for c in CLIENTS for f in c.icons if f in c.formats]


def test_the_clients_are_six_or_more_in_three_or_more_languages() -> None:
    assert len({c.name for c in CLIENTS}) >= 6
    assert len({c.language for c in CLIENTS}) >= 3
    assert {f for c in CLIENTS for f in c.formats} == {"rss", "atom", "json"}


@pytest.fixture(scope="module")
def readings() -> dict[tuple[str, str], Seen]:
    """Each client's reading of each format, made once per module and shared by the tests."""
    return {}


def _reading(
    readings: dict[tuple[str, str], Seen], build_: CorpusBuild, client: Client, fmt: str
) -> Seen:
    key = (client.name, fmt)
    if key not in readings:
        readings[key] = client.read(build_.files[fmt])
    return readings[key]


def _date(value: object) -> datetime:
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = parsedate_to_datetime(text)
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)


@pytest.mark.parametrize(("client", "fmt"), CASES, ids=[f"{c.name}-{f}" for c, f in CASES])
def test_every_item_reads_as_written(
    corpus_build: CorpusBuild,
    readings: dict[tuple[str, str], Seen],
    client: Client,
    fmt: str,
) -> None:
    seen = _reading(readings, corpus_build, client, fmt)
    assert set(seen) == {str(p) for p in corpus_build.files[fmt]}, "every file was read"
    checked = authors = images = 0
    for file, document in seen.items():
        items = document["items"]
        assert isinstance(items, list) and items, f"{file}: no items"
        for item in items:
            where = f"{client.name} reading {file}: {item.get('link')}"
            candidates = corpus_build.expected.get(str(item["link"]))
            assert candidates, f"{where}: the link is not a published story's URL"
            matches = [c for c in candidates if c.title == item["title"]]
            assert matches, f"{where}: title {item['title']!r}, expected one of {candidates}"
            expected = matches[0]
            assert _date(item["date"]) == expected.date.replace(microsecond=0), where
            if "author" in item:  # the client reads authors
                assert item["author"] == expected.author, where
                authors += 1
            if "image" in item:  # the client reads item images
                assert item["image"] == expected.image, where
                images += item["image"] is not None
            for field in ("title", "author"):
                value = item.get(field)
                assert value is None or not ENTITY.search(str(value)), f"{where}: {field}"
            html_summary = fmt in client.html_summary
            _check_summary(item.get("summary"), expected.excerpt, html_summary, where)
            checked += 1
    site = seen[str(corpus_build.out / corpus_build.files[fmt][0].name)]["items"]
    assert isinstance(site, list)
    assert {i["link"] for i in site} == set(corpus_build.expected), "the site feed has every story"
    if client.name not in ("atoma",) or fmt != "rss":
        assert authors == checked, f"{client.name} read an author for every {fmt} item"
    assert images > 0, f"{client.name} read no image from any {fmt} item"


def _check_summary(summary: object, excerpt: str, from_html: bool, where: str) -> None:
    """Text fields show the excerpt as written.

    Atom's summary (type="text") and JSON Feed's summary are text: no reference
    at all. RSS <description> is HTML (RSS 2.0), so a client that prints it (or
    any HTML with its tags stripped) as text may show "&amp;", "&lt;" or "&gt;"
    where the excerpt has "&", "<" or ">", but never another reference
    ("&#x27;", "&quot;"…).
    """
    if not isinstance(summary, str) or not excerpt:
        return
    if from_html:
        leftover = {m.group(0) for m in ENTITY.finditer(summary)} - {"&amp;", "&lt;", "&gt;"}
        assert not leftover, f"{where}: {sorted(leftover)} in the description"
        assert html.unescape(summary).startswith(excerpt[:40]), where
    else:
        assert not ENTITY.search(summary), f"{where}: a character reference in the summary"


@pytest.mark.parametrize(
    ("client", "fmt"), ICON_CASES, ids=[f"{c.name}-{f}" for c, f in ICON_CASES]
)
def test_every_feed_shows_its_icon(
    corpus_build: CorpusBuild,
    readings: dict[tuple[str, str], Seen],
    client: Client,
    fmt: str,
) -> None:
    """Site and topics show the configured icon (portals its own), providers their logo."""
    seen = _reading(readings, corpus_build, client, fmt)
    logos = _provider_logos(CORPUS / "powerapps")
    for file, document in seen.items():
        feed = document["feed"]
        assert isinstance(feed, dict)
        folder = Path(file).parent.relative_to(corpus_build.out).as_posix()
        icon = feed.get("icon")
        assert icon, f"{client.name}: {file} shows no icon"
        if folder.startswith("providers/"):
            assert icon in logos.get(folder.split("/")[1], {SITE_ICON, SITE_LOGO}), file
        elif folder.startswith("topics/portals"):
            assert icon == TOPIC_ICON, file
        else:
            assert icon in (SITE_ICON, SITE_LOGO), file


def _provider_logos(corpus: Path) -> dict[str, set[str]]:
    """The logos the stories give for each provider domain."""
    logos: dict[str, set[str]] = {}
    for path in sorted((corpus / "_news").glob("*.md")):
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("---", 2)[1])
        provider = data.get("provider") or {}
        for image in provider.get("images") or []:
            logos.setdefault(str(provider.get("domain")), set()).add(str(image["url"]))
    return logos


def test_video_items_carry_the_player_in_rss_and_atom(
    corpus_build: CorpusBuild, readings: dict[tuple[str, str], Seen]
) -> None:
    """feedsmith reads Media RSS: every video story's media:player is its embed URL."""
    videos = {}
    for path in sorted((CORPUS / "powerapps" / "_news").glob("*.md")):
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("---", 2)[1])
        if data.get("type") == "video" and data.get("published") is not False:
            found = re.search(r'src="([^"]+)"', str(data.get("featuredContent") or ""))
            assert found, path
            videos[str(data.get("webUrl") or data["originalUrl"]).strip()] = found.group(1)
    assert videos, "the corpus has published videos"
    client = next(c for c in CLIENTS if c.name == "feedsmith")
    for fmt in ("rss", "atom"):
        seen = _reading(readings, corpus_build, client, fmt)
        players = {
            str(i["link"]): i.get("player")
            for i in seen[str(corpus_build.out / f"{fmt}.xml")]["items"]  # type: ignore[union-attr]
        }
        for url, embed in videos.items():
            assert players[url] == embed, f"{fmt}: {url}"
        assert sum(p is not None for p in players.values()) == len(videos)
