"""The landing page and the feed pages, read as HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree, html

from feedpub.config import Config
from feedpub.publish import build
from tests.conftest import BASE_URL

NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def out(write_article: Callable[..., Path], site: Path, tmp_path: Path) -> Path:
    for i in range(3):
        write_article(
            f"2024-05-0{i + 1}-s{i}.md",
            title=f"Story <{i}> & more",
            url=f"https://a.example/{i}",
            date=f"2024-05-0{i + 1}T10:00:00Z",
            topics=["AI", "Space"] if i == 2 else ["AI"],
            provider="Alpha" if i else "Beta",
            domain="alpha.example" if i else "beta.example",
            extra='images:\n  - url: "https://img.example/i.jpg"\n    width: 800\n    height: 450'
            if i == 2
            else "",
        )
    out = tmp_path / "out"
    build(Config(sources=(site,), out=out, base_url=BASE_URL, title="Test News"), NOW)
    return out


def text_of(element: html.HtmlElement) -> str:
    return re.sub(r"\s+", " ", element.text_content()).strip()


def test_the_landing_page_lists_every_feed_with_count_newest_and_address(out: Path) -> None:
    page = html.parse(str(out / "index.html")).getroot()
    cards = {text_of(c.find(".//h3")): c for c in page.find_class("card")}
    assert set(cards) == {
        "Everything 3 stories",
        "AI 3 stories",
        "Space 1 story",
        "Alpha 2 stories",
        "Beta 1 story",
    }
    ai = cards["AI 3 stories"]
    assert "Newest: Story <2> & more · 3 May 2024" in text_of(ai)
    assert ai.find(".//code").text_content() == BASE_URL + "topics/ai/rss.xml"
    assert ai.find(".//h3/a").get("href") == "topics/ai/", "relative: works wherever it is served"
    assert [a.get("href") for a in ai.find_class("formats")[0].iter("a")] == [
        "topics/ai/rss.xml",
        "topics/ai/atom.xml",
        "topics/ai/feed.json",
    ]
    assert page.xpath("//a[@href='index.opml' and @download]")
    discovery = page.xpath("//head/link[@rel='alternate']/@href")
    assert BASE_URL + "rss.xml" in discovery and BASE_URL + "topics/space/feed.json" in discovery


def test_pages_are_accessible_without_javascript(out: Path) -> None:
    for name in ("index.html", "topics/ai/index.html", "providers/alpha.example/index.html"):
        page = html.parse(str(out / name)).getroot()
        assert page.get("lang") == "en"
        assert len(page.xpath("//h1")) == 1
        assert (
            page.xpath("//header") and page.xpath("//main[@id='main']") and page.xpath("//footer")
        )
        assert page.xpath("//a[@class='skip']/@href")[0].lstrip("#") in page.xpath("//@id")
        ids = page.xpath("//@id")
        assert len(ids) == len(set(ids)), "ids are unique"
        for button in page.xpath("//button[@data-copy]"):
            assert button.get("hidden") is not None, "no dead button without JavaScript"
            assert button.get("data-copy") in ids
            assert button.get("aria-label", "").startswith("Copy")
        for labelled in page.xpath("//section[@aria-labelledby]"):
            assert labelled.get("aria-labelledby") in ids
        assert all(img.get("alt") is not None for img in page.iter("img"))
        assert page.xpath("//meta[@name='viewport']")


def test_a_feed_page_shows_its_items_and_how_to_subscribe(out: Path) -> None:
    page = html.parse(str(out / "topics/ai/index.html")).getroot()
    assert text_of(page.find(".//h1")) == "AI"
    assert page.xpath("//p[@class='eyebrow']/a/@href") == ["../../"]
    assert page.find(".//code").text_content() == BASE_URL + "topics/ai/rss.xml"
    items = page.find_class("item")
    assert [text_of(i.find(".//h3")) for i in items] == [f"Story <{i}> & more" for i in (2, 1, 0)]
    assert "Alpha · 3 May 2024" in text_of(items[0])
    assert items[0].find(".//img").get("src") == "https://img.example/i.jpg"
    assert "no-image" in items[1].get("class")
    assert page.xpath("//a[@href='../../index.opml']")


def test_urls_wrap_at_slashes_but_copy_whole(out: Path) -> None:
    raw = (out / "index.html").read_text()
    assert "https://news.example.org/<wbr>feeds/<wbr>topics/<wbr>ai/<wbr>rss.xml" in raw
    tree = etree.HTML(raw)
    assert tree.xpath("string(//code[@id='url-topics-ai'])") == BASE_URL + "topics/ai/rss.xml"
