"""Property tests: any front matter is an article or a clean rejection, never a crash.

Run with the "ci" profile of conftest.py (derandomized, 200 examples) unless
a test asks for fewer. RSS is read back with lxml and checked for bozo with
feedparser; titles and summaries are compared with feedparser on Atom only,
because for RSS feedparser guesses whether a title is HTML from how it looks.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from html import unescape
from itertools import count
from pathlib import Path

import feedparser
import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedpub.config import Config
from feedpub.group import group_articles
from feedpub.model import Article, LoadResult, Provider
from feedpub.publish import build
from feedpub.render.site import render_context, render_site
from feedpub.sources import SourceFile, load_file
from feedpub.text import clean_text
from tests.conftest import BASE_URL

NOW = datetime(2026, 11, 27, tzinfo=UTC)
CONFIG = Config(base_url=BASE_URL, title="Property News", max_items=1000)
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
_names = count()

# Every code point, surrogates and controls included: YAML escapes what it cannot print.
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=30)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**150), max_value=10**150)
    | st.floats()
    | ANY_TEXT
    | st.dates()
    | st.datetimes(timezones=st.none() | st.just(UTC))
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
URLS = st.sampled_from(
    [
        "https://news.example.com/a",
        "http://news.example.com/b?x=1&y=2",
        "https://ex\u00e4mple.com/\u00fcber",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://",
        "not a url",
    ]
)
DATES = st.datetimes(timezones=st.none() | st.just(UTC)) | st.sampled_from(
    ["2024-13-01", "2024-02-30", "0000-01-01", "99999-01-01", "1 May 2024", "2024-05-01T10:00Z"]
)
FRONT_MATTER = st.fixed_dictionaries(
    {},
    optional={
        "title": ANY_TEXT | VALUES,
        "webUrl": URLS | VALUES,
        "originalUrl": URLS,
        "publishedDateTime": DATES | VALUES,
        "date": DATES,
        "published": st.booleans() | VALUES,
        "quality": st.integers() | VALUES,
        "heat": VALUES,
        "type": VALUES,
        "excerpt": ANY_TEXT | VALUES,
        "featuredContent": ANY_TEXT | VALUES,
        "provider": st.fixed_dictionaries({"name": ANY_TEXT, "domain": ANY_TEXT}) | VALUES,
        "topics": st.lists(ANY_TEXT, max_size=3) | VALUES,
        "images": st.lists(st.fixed_dictionaries({"url": URLS}), max_size=2) | VALUES,
        "related": st.lists(st.fixed_dictionaries({"title": ANY_TEXT, "webUrl": URLS})) | VALUES,
        "unknown": VALUES,
    },
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def load_text(folder: Path, content: bytes) -> tuple[Article | None, str | None]:
    """Write one article file and load it; exactly one of the two results is set."""
    path = folder / f"2024-05-01-story-{next(_names)}.md"
    path.write_bytes(content)
    result = load_file(SourceFile(path, path.name), 1 << 20)
    assert (result.article is None) != (result.rejection is None)
    event("rejected" if result.rejection else "accepted")
    return result.article, None if result.rejection is None else str(result.rejection)


def dump(data: Mapping[str, object], *, unicode: bool, flow: bool) -> bytes:
    block = yaml.safe_dump(dict(data), allow_unicode=unicode, default_flow_style=flow)
    return f"---\n{block}---\nBody.\n".encode("utf-8", "surrogatepass")


@given(FRONT_MATTER, st.booleans(), st.booleans())
def test_any_front_matter_is_an_article_or_a_clean_rejection(
    scratch: Path, data: dict[str, object], unicode: bool, flow: bool
) -> None:
    article, rejection = load_text(scratch, dump(data, unicode=unicode, flow=flow))
    if rejection is not None:
        assert rejection.startswith("2024-05-01-story-")
        return
    assert article is not None and article.title and article.url.startswith("http")
    assert article.published.tzinfo is UTC


@given(st.text(ANY_CHAR, max_size=200), ANY_TEXT, ANY_TEXT)
def test_any_text_as_front_matter_is_an_article_or_a_clean_rejection(
    scratch: Path, block: str, title: str, topic: str
) -> None:
    load_text(scratch, f"---\n{block}\n---\n".encode("utf-8", "surrogatepass"))
    # Raw, unescaped text where YAML expects a value: plain scalars, stray
    # indicators, line breaks of every kind.
    text = (
        f"---\ntitle: {title}\nwebUrl: https://news.example.com/a\n"
        f"publishedDateTime: 2024-05-01\ntopics: {topic}\n---\n"
    )
    load_text(scratch, text.encode("utf-8", "surrogatepass"))


# The pieces YAML is made of, hostile ones first: tags, %-escapes, anchors,
# aliases, merges, escapes of halves of surrogate pairs, every kind of break.
_WORDS = r"""
    ! !! % %ED %A0 %80 %FF %0A &a *a << : - [ ] { } , ? | > ' " \ \u \ud83d \ude00 \x85 #
    title webUrl topics provider name images url related https://e.com/ javascript: 2024-05-01
    0x 1e9 .inf .nan ~ \u00e9 \U0001f600 !!timestamp !!python/object:os.system !!int !!float
    !!binary !!set !!omap !!pairs !!str !!seq !!map !!merge !!null !!bool !!value --- ...
    %YAML %TAG tag:x,2000: yes null 12:30:45 0o17 + _ é 😀
"""
YAML_PIECES = st.sampled_from([*_WORDS.split(), " ", "  ", "\n", "\t", "\u2028", "\x85", "\ufeff"])
VALID = "title: t\nwebUrl: https://e.com/a\npublishedDateTime: 2024-05-01\n"


@given(st.lists(YAML_PIECES, max_size=40).map("".join), st.integers(0, 2))
def test_yaml_assembled_from_its_hostile_pieces_is_an_article_or_a_clean_rejection(
    scratch: Path, pieces: str, where: int
) -> None:
    block = (pieces + "\n" + VALID, VALID + pieces, VALID.replace("title: t", "title: " + pieces))
    load_text(scratch, f"---\n{block[where]}\n---\n".encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=200))
def test_any_bytes_are_an_article_or_a_clean_rejection(scratch: Path, raw: bytes) -> None:
    load_text(scratch, b"---\ntitle: " + raw + b"\n---\n")
    load_text(scratch, raw)


def feedparser_recodes(text: str) -> bool:
    """Whether feedparser "repairs" ``text`` as mojibake, as it does on purpose.

    Text that is all Latin-1 and whose Latin-1 bytes are valid UTF-8 (``à¡¡``)
    is taken for UTF-8 read as Latin-1 and decoded again (``ࡡ``): a guess in
    the reader, not a fault in the feed, which lxml reads back exactly.
    """
    try:
        return text.encode("iso-8859-1").decode("utf-8") != text
    except UnicodeError:
        return False


def _texts(root: etree._Element, path: str) -> list[str]:
    return [node.text or "" for node in root.iter(path)]


@given(
    title=ANY_TEXT,
    excerpt=ANY_TEXT,
    provider=ANY_TEXT,
    topic=ANY_TEXT,
    path=st.just("story") | st.text(st.characters(categories=["L", "N", "P", "S"])) | ANY_TEXT,
    unicode=st.booleans(),
)
def test_accepted_text_survives_into_every_format_as_cleaned(
    scratch: Path, title: str, excerpt: str, provider: str, topic: str, path: str, unicode: bool
) -> None:
    data = {
        "title": title,
        "excerpt": excerpt,
        "publishedDateTime": "2024-05-01T10:00:00Z",
        "webUrl": "https://news.example.com/" + path,
        "provider": {"name": provider, "domain": "example.com"},
        "topics": [topic],
    }
    article, rejection = load_text(scratch, dump(data, unicode=unicode, flow=False))
    if article is None:
        assert rejection is not None
        everything = title + excerpt + provider + topic + path
        if any("\ud800" <= c <= "\udfff" for c in everything):  # YAML cannot carry them
            assert "found invalid Unicode character escape code" in rejection, rejection
        else:
            assert any(r in rejection for r in ("title is empty", ": webUrl ")), rejection
        return
    expected_title = clean_text(title)
    expected_excerpt = clean_text(excerpt)
    expected_provider = clean_text(provider) or "example.com"
    expected_topics = [clean_text(topic)] if clean_text(topic) else []
    assert (article.title, article.excerpt) == (expected_title, expected_excerpt)

    selection = group_articles(LoadResult((article,), ()), CONFIG, NOW)
    files = render_site(selection, render_context(CONFIG), selection.feeds)
    for name, content in files.items():
        if name.endswith((".xml", ".opml")):
            etree.fromstring(content)
        if name.endswith((".rss.xml", "rss.xml", "atom.xml")):
            assert not feedparser.parse(content).bozo, name
        if name.endswith(".json"):
            json.loads(content)

    atom = etree.fromstring(files["atom.xml"])
    assert _texts(atom, f"{ATOM}title")[1:] == [expected_title]
    assert _texts(atom, f"{ATOM}summary") == ([expected_excerpt] if expected_excerpt else [])
    assert _texts(atom, f"{ATOM}name") == [expected_provider]
    assert [c.get("term") for c in atom.iter(f"{ATOM}category")] == expected_topics
    rss = etree.fromstring(files["rss.xml"])
    assert _texts(rss, "title")[1:] == [expected_title]
    assert unescape(_texts(rss, "description")[1]) == (expected_excerpt or expected_title)
    assert _texts(rss, f"{DC}creator") == [expected_provider]
    assert _texts(rss, "category") == expected_topics
    item = json.loads(files["feed.json"])["items"][0]
    assert item["url"] == article.url == "https://news.example.com/" + path.strip()
    assert item["title"] == expected_title
    assert item.get("summary", "") == expected_excerpt
    assert item["authors"][0]["name"] == expected_provider
    assert item.get("tags", []) == expected_topics
    entry = feedparser.parse(files["atom.xml"]).entries[0]
    for value, expected in ((entry.title, expected_title), (entry.author, expected_provider)):
        assert value == expected or feedparser_recodes(expected)
    if expected_excerpt:  # without one, feedparser shows the content as the summary
        assert entry.summary == expected_excerpt or feedparser_recodes(expected_excerpt)
    for name in files:
        assert ".." not in name.split("/") and not name.startswith("/")


NAMES = st.sampled_from(
    ["AI", "ai", "A.I.", "Café", "Cafe\u0301", "CAFE", "cafe", "../../x", "/etc", "CON", "😀", ""]
)
DOMAINS = st.sampled_from(["a.example", "A.EXAMPLE.", "b.example", "../../etc", "", "con.com"])


@st.composite
def articles(draw: st.DrawFn) -> list[Article]:
    made = []
    base = datetime(2024, 5, 1, tzinfo=UTC)
    for i in range(draw(st.integers(min_value=1, max_value=10))):
        made.append(
            Article(
                key=f"2024-05-01:story-{i % 4}",  # shared keys, as from two sources
                path=f"src{i % 2}/2024-05-01-story-{i}.md",
                title=f"Story {i}",
                url=f"https://news.example.com/{draw(st.integers(0, 6))}",  # duplicates too
                published=base + timedelta(hours=draw(st.integers(0, 3))),  # ties too
                quality=draw(st.integers(0, 3)),
                provider=Provider(name=draw(NAMES) or "P", domain=draw(DOMAINS)),
                topics=tuple(draw(st.lists(NAMES.filter(bool), max_size=3, unique=True))),
                draft=draw(st.booleans()) and i % 3 == 0,
            )
        )
    return made


def _site(found: list[Article]) -> dict[str, bytes]:
    selection = group_articles(LoadResult(tuple(found), ()), CONFIG, NOW)
    return render_site(selection, render_context(CONFIG), selection.feeds)


@settings(max_examples=100)
@given(articles(), st.data())
def test_grouping_does_not_depend_on_the_order_of_input(
    found: list[Article], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(found))
    assert _site(shuffled) == _site(found)


@settings(max_examples=25)
@given(st.lists(st.tuples(ANY_TEXT, NAMES, DOMAINS), min_size=1, max_size=4))
def test_building_twice_changes_nothing(stories: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        news = root / "site" / "_news"
        news.mkdir(parents=True)
        for i, (title, topic, domain) in enumerate(stories):
            data = {
                "title": title or "untitled",
                "publishedDateTime": date(2024, 5, 1 + i).isoformat(),
                "webUrl": f"https://news.example.com/{i}",
                "provider": {"name": f"P{i}", "domain": domain},
                "topics": [topic],
            }
            (news / f"2024-05-0{i + 1}-s.md").write_bytes(dump(data, unicode=True, flow=False))
        config = Config(sources=(root / "site",), out=root / "out", base_url=BASE_URL)
        first = build(config, NOW)
        before = {p: p.read_bytes() for p in (root / "out").rglob("*") if p.is_file()}
        second = build(config, NOW)
        after = {p: p.read_bytes() for p in (root / "out").rglob("*") if p.is_file()}
        assert second.written == () and second.removed == ()
        assert before == after
        assert first.files_read == second.files_read == len(stories)


@given(
    st.text(
        st.one_of(
            st.characters(min_codepoint=0x20, max_codepoint=0x7E),  # mostly printable ASCII
            st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1f\x7f\x85\xa0&;#é’\u2028\ufffe"),
        ),
        max_size=40,
    )
)
def test_the_shortcut_of_clean_text_changes_nothing(value: str) -> None:
    from feedpub.text import clean_text_fully

    assert clean_text(value) == clean_text_fully(value)
