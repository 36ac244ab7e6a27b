"""Styled feeds: the xml-stylesheet instruction, feed.xsl, and what XSLT makes of a feed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feedpub.config import Config, normalize_base_url
from feedpub.publish import build
from feedpub.render.stylesheet import add_stylesheet_pi, stylesheet_href
from tests.conftest import BASE_URL
from tests.feedcheck import check_feed_folder

NOW = datetime(2024, 6, 1, tzinfo=UTC)
PI = b'<?xml-stylesheet type="text/xsl" href="/feeds/feed.xsl"?>'


@pytest.fixture
def config(write_article: Callable[..., Path], site: Path, tmp_path: Path) -> Config:
    write_article(
        "2024-05-03-tricky.md",
        title="AT&T buys <everything>",
        excerpt="Fish & chips, “quoted” & <b>bold</b>",
        url="https://a.example/t?x=1&y=2",
        topics=["AI"],
        provider="Alpha",
        domain="alpha.example",
        date="2024-05-03T10:00:00Z",
        extra='images:\n  - url: "https://img.example/a.jpg"\n    width: 1200\n    height: 675',
    )
    write_article(
        "2024-05-01-plain.md",
        title="Plain",
        url="https://a.example/plain",
        topics=["AI"],
        provider="Beta",
        domain="beta.example",
        date="2024-05-01T10:00:00Z",
    )
    return Config(sources=(site,), out=tmp_path / "out", base_url=BASE_URL, title="Test News")


def test_rss_and_atom_point_at_the_stylesheet_right_after_the_xml_declaration(
    config: Config,
) -> None:
    build(config, NOW)
    out = config.out
    for folder in ("", "topics/ai", "providers/alpha.example"):
        for name in ("rss.xml", "atom.xml"):
            lines = (out / folder / name).read_bytes().split(b"\n")
            assert lines[0].startswith(b"<?xml version=")
            assert lines[1] == PI, f"{folder}/{name}"
        assert not (out / folder / "feed.json").read_bytes().startswith(b"<?")
        check_feed_folder(out, folder, BASE_URL)  # the instruction costs no validity
    assert (out / "feed.xsl").is_file()
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")


def test_stylesheet_false_writes_plain_feeds(config: Config) -> None:
    build(replace(config, stylesheet=False), NOW)
    assert not (config.out / "feed.xsl").exists()
    assert b"xml-stylesheet" not in (config.out / "rss.xml").read_bytes()


def test_turning_the_stylesheet_off_later_removes_feed_xsl(config: Config) -> None:
    build(config, NOW)
    report = build(replace(config, stylesheet=False), NOW)
    assert "feed.xsl" in report.removed


@pytest.mark.parametrize(
    ("base_url", "href"),
    [
        ("http://localhost:8000/", "/feed.xsl"),
        ("https://example.org/feeds/", "/feeds/feed.xsl"),
        ("https://example.org/a/b", "/a/b/feed.xsl"),
        ("https://example.org", "/feed.xsl"),
    ],
)
def test_the_href_is_root_relative_under_the_base_url_path(base_url: str, href: str) -> None:
    assert stylesheet_href(normalize_base_url(base_url)) == href


def test_the_instruction_quotes_its_href() -> None:
    out = add_stylesheet_pi(b"<?xml version='1.0'?>\n<rss/>", '/a"b&c?>/feed.xsl')
    assert out.split(b"\n")[1] == (
        b'<?xml-stylesheet type="text/xsl" href="/a&quot;b&amp;c?&gt;/feed.xsl"?>'
    )
    assert etree.fromstring(out).tag == "rss"
    assert add_stylesheet_pi(b"<rss/>", "/s.xsl").startswith(b"<?xml-stylesheet")


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_xslt_turns_each_feed_into_a_readable_page(config: Config, name: str) -> None:
    """libxslt, the XSLT engine of Chromium, applied the way a browser applies it."""
    build(config, NOW)
    transform = etree.XSLT(etree.parse(str(config.out / "feed.xsl")))
    html = str(transform(etree.parse(str(config.out / "topics/ai" / name))))
    text = re.sub(r"\s+", " ", etree.tostring(etree.HTML(html), method="text", encoding=str))
    assert "AI — Test News" in text
    assert "This is a news feed: follow it in a feed reader" in text
    assert f"{BASE_URL}topics/ai/{name}" in text, "the address to copy"
    assert "AT&T buys <everything>" in text
    assert "Fish & chips, “quoted” & <b>bold</b>" in text, "plain text stays plain"
    assert "Alpha · 3 May 2024" in text and "Beta · 1 May 2024" in text
    page = etree.HTML(html)
    assert page.xpath("//img/@src") == ["https://img.example/a.jpg"]
    assert page.xpath("//img/@alt") == [""]
    assert page.xpath("//h3/a/@href") == ["https://a.example/t?x=1&y=2", "https://a.example/plain"]
    assert {"rss.xml", "atom.xml", "feed.json", "./"} <= set(page.xpath("//a/@href"))
    assert len(page.xpath("//h1")) == 1 and page.xpath("//main") and page.xpath("//html/@lang")
    assert "feedpub.css" not in html and ".card" in html, "the CSS is inlined"
    assert page.xpath("//button[@data-copy='feed-address']/@hidden") is not None
