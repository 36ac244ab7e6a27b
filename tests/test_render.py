"""Feeds as real clients read them: feedparser, the reader library, lxml and the JSON Feed rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feedpub.config import Config
from feedpub.publish import build
from tests.conftest import BASE_URL, article_text
from tests.feedcheck import check_feed_folder

NOW = datetime(2024, 6, 1, tzinfo=UTC)
VIDEO = (
    'featuredContent: "<iframe width=\\"800\\" height=\\"500\\" '
    'src=\\"https://www.youtube.com/embed/abc\\" allowfullscreen></iframe>'
    '<script>alert(1)</script>"\n'
    'images:\n  - url: "https://img.example.com/v.jpg"\n    width: 1280\n    height: 720'
)


@pytest.fixture
def built(write_article: Callable[..., Path], site: Path, tmp_path: Path) -> Path:
    write_article(
        "2024-05-03-tricky.md",
        title="Less < more & ]]> done",
        excerpt="we&#8217;re <b>bold</b> \x07 here",
        url="https://a.example/tricky?x=1&y=2",
        topics=["AI", "Robots"],
        provider="Alpha",
        domain="alpha.example",
        quality=80,
        date="2024-05-03T10:00:00Z",
    )
    write_article(
        "2024-05-02-video.md",
        title="A video",
        url=None,
        extra='originalUrl: "https://www.youtube.com/watch?v=abc"\n' + VIDEO,
        topics=["AI"],
        provider="Beta",
        domain="beta.example",
        date="2024-05-02T10:00:00Z",
    )
    write_article(
        "2024-05-01-draft.md", title="Draft", published=False, url="https://a.example/draft"
    )
    write_article(
        "2024-05-01-plain.md",
        title="Plain",
        url="https://a.example/plain",
        provider="Alpha",
        domain="alpha.example",
        topics=["Robots"],
        date="2024-05-01T10:00:00Z",
    )
    out = tmp_path / "out"
    build(Config(sources=(site,), out=out, base_url=BASE_URL, title="Test News"), NOW)
    return out


FOLDERS = ["", "topics/ai", "topics/robots", "providers/alpha.example", "providers/beta.example"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_feed_keeps_the_rules_in_all_three_formats(built: Path, folder: str) -> None:
    ids = check_feed_folder(built, folder, BASE_URL)
    assert ids, "no feed is empty here"


def test_feedparser_reads_rss_and_atom_as_written(built: Path) -> None:
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((built / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        titles = [e.title for e in parsed.entries]
        assert titles == ["Less < more & ]]> done", "A video", "Plain"]
        first = parsed.entries[0]
        assert first.link == "https://a.example/tricky?x=1&y=2"
        assert first.id.startswith("tag:news.example.org,2024-05-03:tricky")
        assert first.author == "Alpha"
        assert first.published_parsed[:6] == (2024, 5, 3, 10, 0, 0)
        assert "\u2019" in first.summary and "&#8217;" not in first.summary
        assert parsed.feed.title == "Test News"
        assert "Draft" not in titles


def test_plain_text_stays_text_in_every_format(built: Path) -> None:
    expected = "we\u2019re <b>bold</b> here"
    atom = etree.parse(str(built / "atom.xml"))
    summary = atom.findtext(".//{http://www.w3.org/2005/Atom}summary")
    assert summary == expected
    doc = json.loads((built / "feed.json").read_text())
    assert doc["items"][0]["summary"] == expected
    assert doc["items"][0]["title"] == "Less < more & ]]> done"
    rss = (built / "rss.xml").read_text()
    assert "<title>Less &lt; more &amp; ]]&gt; done</title>" in rss
    # RSS description is HTML: the excerpt's own "<b>" must arrive as text, not markup.
    parsed = feedparser.parse(rss.encode())
    assert "&lt;b&gt;bold&lt;/b&gt;" in parsed.entries[0].summary


def test_videos_embed_only_sanitized_iframes(built: Path) -> None:
    doc = json.loads((built / "topics/ai/feed.json").read_text())
    video = next(i for i in doc["items"] if i["title"] == "A video")
    assert "<iframe" in video["content_html"]
    assert "https://www.youtube.com/embed/abc" in video["content_html"]
    assert "script" not in video["content_html"]
    atom = (built / "topics/ai/atom.xml").read_text()
    assert "iframe" not in atom and "script" not in atom
    assert "https://www.youtube.com/watch?v=abc" in atom


def test_reader_library_reads_all_three_formats(built: Path) -> None:
    from reader import make_reader

    reader = make_reader(":memory:", feed_root=str(built))
    names = ["topics/robots/rss.xml", "topics/robots/atom.xml", "topics/robots/feed.json"]
    for name in names:
        reader.add_feed(name)
    reader.update_feeds()
    seen = {}
    for name in names:
        feed = reader.get_feed(name)
        assert feed.last_exception is None, feed.last_exception
        entries = sorted(reader.get_entries(feed=name), key=lambda e: e.published, reverse=True)
        seen[name] = [(e.id, e.title, e.link, e.published, e.authors_str) for e in entries]
    assert seen[names[0]] == seen[names[1]] == seen[names[2]]
    assert [t for _, t, *_ in seen[names[0]]] == ["Less < more & ]]> done", "Plain"]
    assert seen[names[0]][0][4] == "Alpha"


def test_discovery_files_list_every_feed(built: Path) -> None:
    opml = etree.parse(str(built / "index.opml"))
    urls = {o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert BASE_URL + "topics/ai/rss.xml" in urls
    assert BASE_URL + "providers/beta.example/rss.xml" in urls
    html = (built / "index.html").read_text()
    assert '<link rel="alternate" type="application/rss+xml"' in html
    assert BASE_URL + "topics/robots/feed.json" in html
    page = (built / "topics/ai/index.html").read_text()
    assert "Less &lt; more &amp; ]]&gt; done" in page


def test_an_article_with_no_provider_is_authored_by_the_site(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    write_article("2024-05-01-anon.md", provider=None, url="https://x.example/anon")
    out = tmp_path / "out"
    build(Config(sources=(site,), out=out, base_url=BASE_URL, title="Test News"), NOW)
    check_feed_folder(out, "", BASE_URL)
    parsed = feedparser.parse((out / "atom.xml").read_bytes())
    assert parsed.entries[0].author == "x.example"


def test_text_survives_unicode_and_control_characters(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    title = "Ünïcödé 日本語 🚀 \u200b tab\there \x0b\x1f end"
    write_article("2024-05-01-u.md", text=article_text(title=title))
    out = tmp_path / "out"
    build(Config(sources=(site,), out=out, base_url=BASE_URL), NOW)
    check_feed_folder(out, "", BASE_URL)
    parsed = feedparser.parse((out / "atom.xml").read_bytes())
    assert not parsed.bozo
    assert parsed.entries[0].title == "Ünïcödé 日本語 🚀 \u200b tab here end"
