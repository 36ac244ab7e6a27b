"""What each format carries for clients: images, video, authors, dates, branding, Smartable data."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
import yaml
from lxml import etree

from feedpub.config import Config, FeedPolicy, parse_config
from feedpub.errors import ConfigError
from feedpub.model import Article, Feed, FeedKind, Image, Provider
from feedpub.publish import build
from feedpub.render import RENDERERS, RenderContext
from feedpub.render.media import image_type
from feedpub.render.site import feed_digest
from tests.conftest import BASE_URL, CORPUS, article_text
from tests.feedcheck import check_feed_folder

NOW = datetime(2024, 6, 1, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
EMBED = "https://www.youtube.com/embed/abc?start=3&amp;rel=0"
VIDEO = (
    "type: video\n"
    f'featuredContent: "<iframe width=\\"800\\" height=\\"500\\" src=\\"{EMBED}\\" '
    'allowfullscreen></iframe><script>alert(1)</script>"\n'
    'images:\n  - url: "https://img.example.com/poster.webp"\n    width: 1280\n    height: 720'
)
ICON = "https://news.example.org/icon.png"
LOGO = "https://news.example.org/logo.png"
CTX = RenderContext(
    base_url=BASE_URL,
    site_title="Test News",
    site_domain="news.example.org",
    language="en",
    generator_version="0",
)


def _render(feed: Feed) -> dict[str, bytes]:
    return {r.name: r.render(feed, CTX) for r in RENDERERS}


def _article(**fields: object) -> Article:
    values: dict[str, object] = {
        "key": "2024-05-01:a",
        "path": "a.md",
        "title": "A story",
        "url": "https://a.example/story",
        "published": datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        "excerpt": "An excerpt.",
        "provider": Provider("Alpha", "alpha.example"),
    }
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]


def _feed(*items: Article, **fields: object) -> Feed:
    return Feed(FeedKind.SITE, "", "", "Test News", "All", items, len(items), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://i.example/a.png", "image/png"),
        ("https://i.example/a.PNG?w=800", "image/png"),
        ("https://i.example/a.webp#x", "image/webp"),
        ("https://i.example/photo.gif", "image/gif"),
        ("https://i.example/a.jpeg", "image/jpeg"),
        ("https://i.example/api/image/123?v=1", "image/jpeg"),  # no extension: JPEG
        ("https://i.example/a.php", "image/jpeg"),
        ("https://[bad/a.png", "image/jpeg"),
    ],
)
def test_an_image_type_comes_from_the_url_path(url: str, expected: str) -> None:
    assert image_type(url) == expected


def test_the_item_image_is_an_enclosure_a_thumbnail_and_media_content() -> None:
    images = (Image("https://i.example/a.png", 800, 600), Image("https://i.example/b.jpg"))
    out = _render(_feed(_article(images=images)))
    item = etree.fromstring(out["rss"]).find("channel/item")
    assert item is not None
    [enclosure] = item.findall("enclosure")  # one only: RSS 2.0 allows one per item
    assert enclosure.attrib == {"url": images[0].url, "length": "0", "type": "image/png"}
    [thumbnail] = item.findall(f"{MEDIA}thumbnail")
    assert thumbnail.attrib == {"url": images[0].url, "width": "800", "height": "600"}
    [content] = item.findall(f"{MEDIA}content")
    assert content.get("url") == images[0].url and content.get("medium") == "image"
    entry = etree.fromstring(out["atom"]).find(f"{ATOM}entry")
    assert entry is not None
    enclosures = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert [(e.get("href"), e.get("type")) for e in enclosures] == [(images[0].url, "image/png")]
    assert entry.find(f"{MEDIA}thumbnail") is not None
    assert json.loads(out["json"])["items"][0]["image"] == images[0].url


def test_an_item_without_an_image_has_no_enclosure() -> None:
    out = _render(_feed(_article()))
    assert b"enclosure" not in out["rss"] and b"enclosure" not in out["atom"]
    assert b"media:" not in out["rss"]


def test_a_video_is_media_rss_with_its_player_in_rss_and_atom(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    write_article("2024-05-02-video.md", title="A video", extra=VIDEO)
    out = tmp_path / "out"
    build(Config(sources=(site,), out=out, base_url=BASE_URL), NOW)
    check_feed_folder(out, "", BASE_URL)
    player_url = EMBED.replace("&amp;", "&")
    for name, item_path in (("rss.xml", "channel/item"), ("atom.xml", f"{ATOM}entry")):
        item = etree.parse(str(out / name)).find(item_path)
        assert item is not None
        [content] = item.findall(f"{MEDIA}content")
        assert content.get("medium") == "video"
        assert content.find(f"{MEDIA}player").get("url") == player_url  # type: ignore[union-attr]
        assert content.findtext(f"{MEDIA}title") == "A video"
        thumbnail = item.find(f"{MEDIA}thumbnail")
        assert thumbnail is not None
        assert thumbnail.get("url") == "https://img.example.com/poster.webp"
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo
        assert parsed.entries[0].media_player["url"] == player_url
    rss = (out / "rss.xml").read_text()
    assert 'type="image/webp"' in rss and "alert(1)" not in rss
    item = json.loads((out / "feed.json").read_text())["items"][0]
    assert f'src="{EMBED}"' in item["content_html"] and "alert(1)" not in item["content_html"]


def test_a_video_from_an_unknown_host_has_no_player(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    write_article(
        "2024-05-02-video.md",
        extra=VIDEO.replace("https://www.youtube.com/", "https://evil.example/"),
    )
    out = tmp_path / "out"
    build(Config(sources=(site,), out=out, base_url=BASE_URL), NOW)
    rss = (out / "rss.xml").read_text()
    assert "media:player" not in rss and "evil.example" not in rss
    assert 'medium="image"' in rss  # the poster still shows


def test_json_items_carry_the_1_0_author_too() -> None:
    provider = Provider("Alpha", "alpha.example", "https://alpha.example/logo.png")
    item = json.loads(_render(_feed(_article(provider=provider)))["json"])["items"][0]
    expected = {"name": "Alpha", "url": "https://alpha.example/", "avatar": provider.logo}
    assert item["authors"] == [expected] and item["author"] == expected


def test_an_rss_description_escapes_only_what_html_needs() -> None:
    excerpt = 'It\'s "quoted" & <b>bold</b> > less'
    raw = _render(_feed(_article(excerpt=excerpt)))["rss"]
    description = etree.fromstring(raw).findtext("channel/item/description")
    assert description == 'It\'s "quoted" &amp; &lt;b&gt;bold&lt;/b&gt; &gt; less'
    assert b"&amp;#x27;" not in raw and b"&amp;quot;" not in raw
    # A client that reads it as HTML gets the excerpt back as written.
    assert feedparser.parse(raw).entries[0].summary == (
        'It\'s "quoted" &amp; &lt;b&gt;bold&lt;/b&gt; &gt; less'
    )


def test_an_rss_channel_description_is_text_with_its_tags_escaped() -> None:
    """A provider's feed is described by its name, a site's by its config: quotes and
    ampersands stay as written (the W3C validator warns of HTML in a description that
    holds "&amp;" or "&#x27;"), and a reader that takes it as HTML shows markup as text."""
    description = 'Stories from Marc\'s "Blog" & AT&T <img src=x onerror=alert(1)>'
    raw = _render(replace(_feed(_article()), description=description))["rss"]
    assert etree.fromstring(raw).findtext("channel/description") == (
        'Stories from Marc\'s "Blog" & AT&T &lt;img src=x onerror=alert(1)&gt;'
    )
    assert b"&amp;#x27;" not in raw and b"&amp;amp;" not in raw and b"<img" not in raw
    # A client that reads it as HTML shows the words, and the tag as text.
    subtitle = feedparser.parse(raw).feed.subtitle
    assert html.unescape(subtitle) == description


def test_a_modified_story_shows_when_it_changed_in_atom_and_json_only() -> None:
    modified = datetime(2024, 5, 20, 8, 30, 15, tzinfo=UTC)
    edited = _article(modified=modified)
    untouched = _article(
        key="2024-04-01:b",
        url="https://a.example/b",
        title="Old",
        published=datetime(2024, 4, 1, tzinfo=UTC),
    )
    out = _render(_feed(edited, untouched))
    atom = etree.fromstring(out["atom"])
    updates = [e.findtext(f"{ATOM}updated") for e in atom.findall(f"{ATOM}entry")]
    published = [e.findtext(f"{ATOM}published") for e in atom.findall(f"{ATOM}entry")]
    assert updates == ["2024-05-20T08:30:15+00:00", "2024-04-01T00:00:00+00:00"]
    assert published == ["2024-05-01T10:00:00+00:00", "2024-04-01T00:00:00+00:00"]
    assert atom.findtext(f"{ATOM}updated") == "2024-05-20T08:30:15+00:00"
    items = json.loads(out["json"])["items"]
    assert items[0]["date_modified"] == "2024-05-20T08:30:15Z"
    assert items[0]["date_published"] == "2024-05-01T10:00:00Z"
    assert "date_modified" not in items[1]
    rss = etree.fromstring(out["rss"])
    dates = [i.findtext("pubDate") for i in rss.iter("item")]
    assert dates == ["Wed, 01 May 2024 10:00:00 +0000", "Mon, 01 Apr 2024 00:00:00 +0000"]
    # And without the edit, the story's bytes are as before.
    again = _render(_feed(_article(), untouched))
    assert b"2024-05-20" not in again["atom"] and b"date_modified" not in again["json"]


def test_icon_and_logo_are_config_keys_for_the_site_and_each_feed(tmp_path: Path) -> None:
    config = parse_config(
        {
            "icon": ICON,
            "logo": LOGO,
            "topics": {"ai": {"icon": "https://news.example.org/ai.png"}},
            "providers": {"alpha.example": {"logo": "https://alpha.example/big.png"}},
        },
        base_dir=tmp_path,
    )
    assert (config.icon, config.logo) == (ICON, LOGO)
    assert config.topics["ai"] == FeedPolicy(icon="https://news.example.org/ai.png")
    assert config.providers["alpha.example"].logo == "https://alpha.example/big.png"
    with pytest.raises(ConfigError, match=r"config: icon: 'icon.png' is not an absolute"):
        parse_config({"icon": "icon.png"}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"config: topics.ai: logo must be a string"):
        parse_config({"topics": {"ai": {"logo": 3}}}, base_dir=tmp_path)


def _with_logo(text: str, logo: str) -> str:
    """An article of provider Alpha (alpha.example), whose front matter gives its logo."""
    provider = '  name: "Example News"\n  domain: example.com\n'
    assert provider in text
    return text.replace(
        provider, f'  name: "Alpha"\n  domain: alpha.example\n  images:\n    - url: "{logo}"\n'
    )


def _branding(out: Path, folder: str) -> dict[str, object]:
    where = out / folder if folder else out
    rss = etree.parse(str(where / "rss.xml")).find("channel/image")
    atom = etree.parse(str(where / "atom.xml")).getroot()
    doc = json.loads((where / "feed.json").read_text())
    page = (where / "index.html").read_text() if (where / "index.html").exists() else ""
    return {
        "rss": None if rss is None else (rss.findtext("url"), rss.findtext("link")),
        "atom": (atom.findtext(f"{ATOM}icon"), atom.findtext(f"{ATOM}logo")),
        "json": (doc.get("icon"), doc.get("favicon")),
        "page": page,
    }


def test_every_feed_has_its_icon_in_all_three_formats_and_its_page(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    logo = "https://alpha.example/logo-50.png"
    write_article("2024-05-01-a.md", text=_with_logo(article_text(topics=["AI", "Robots"]), logo))
    write_article("2024-05-02-b.md", provider="Beta", domain="beta.example", url="https://b.x/1")
    topic_icon = "https://news.example.org/ai.png"
    out = tmp_path / "out"
    config = Config(
        sources=(site,),
        out=out,
        base_url=BASE_URL,
        icon=ICON,
        logo=LOGO,
        topics={"ai": FeedPolicy(icon=topic_icon)},
    )
    build(config, NOW)
    site_ = _branding(out, "")
    assert site_["rss"] == (LOGO, BASE_URL)  # RSS 2.0: <image> links to the channel's page
    assert site_["atom"] == (ICON, LOGO) and site_["json"] == (LOGO, ICON)
    assert f'<link rel="icon" href="{ICON}">' in str(site_["page"])
    assert f'class="feed-logo" src="{LOGO}"' in str(site_["page"])
    ai = _branding(out, "topics/ai")
    assert ai["rss"] == (topic_icon, BASE_URL + "topics/ai/")
    assert ai["atom"] == (topic_icon, topic_icon) and ai["json"] == (topic_icon, topic_icon)
    assert f'<link rel="icon" href="{topic_icon}">' in str(ai["page"])
    assert _branding(out, "topics/robots")["atom"] == (ICON, LOGO)  # inherits the site's
    alpha = _branding(out, "providers/alpha.example")
    assert alpha["atom"] == (logo, logo) and alpha["json"] == (logo, logo)
    assert alpha["rss"] == (logo, BASE_URL + "providers/alpha.example/")
    assert _branding(out, "providers/beta.example")["atom"] == (ICON, LOGO)  # no logo of its own
    for folder in ("", "topics/ai", "providers/alpha.example"):
        check_feed_folder(out, folder, BASE_URL)


def test_provider_feeds_carry_their_logo_without_config(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    logo = "https://alpha.example/logo-50.png"
    write_article("2024-05-01-a.md", text=_with_logo(article_text(), logo))
    out = tmp_path / "out"
    build(Config(sources=(site,), out=out, base_url=BASE_URL), NOW)
    assert _branding(out, "providers/alpha.example")["atom"] == (logo, logo)
    assert _branding(out, "providers/alpha.example")["json"] == (logo, logo)
    assert _branding(out, "providers/alpha.example")["rss"] is not None
    unbranded = _branding(out, "")
    assert unbranded["rss"] is None and unbranded["atom"] == (None, None)
    assert unbranded["json"] == (None, None) and 'rel="icon"' not in str(unbranded["page"])


def test_json_items_carry_the_smartable_data_in_an_extension(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    write_article(
        "2024-05-01-a.md",
        quality=77,
        topics=["Machine Learning", "machine  learning", "AI"],
        extra=(
            "heat: 12\nrelated:\n"
            '  - title: "Elsewhere"\n    webUrl: "https://b.example/x"\n'
            "    publishedDateTime: 2024-04-30T08:00:00+02:00\n"
            "    provider:\n      name: Bee\n"
            '  - title: "Undated"\n    webUrl: "https://c.example/y"\n'
            '    publishedDateTime: "someday"\n'
        ),
    )
    out = tmp_path / "out"
    state = tmp_path / "state.sqlite"
    config = Config(sources=(site,), out=out, base_url=BASE_URL, state=state)
    build(config, NOW)
    first = (out / "feed.json").read_bytes()
    assert (out / "topics/machine-learning/feed.json").is_file()
    extension = json.loads(first)["items"][0]["_feedpub"]
    assert extension == {
        "about": "https://pypi.org/project/feedpub/",
        "quality": 77,
        "heat": 12,
        "type": "article",
        "topics": ["machine-learning", "machine-learning", "ai"],  # each its feed's folder
        "related": [
            {
                "title": "Elsewhere",
                "url": "https://b.example/x",
                "provider": "Bee",
                "date_published": "2024-04-30T06:00:00Z",
            },
            {"title": "Undated", "url": "https://c.example/y"},
        ],
    }
    # The related dates live in the cache too: a second build from it writes the same bytes.
    (out / "feed.json").unlink()
    build(config, NOW)
    assert (out / "feed.json").read_bytes() == first


def test_every_related_story_of_the_seed_article_is_in_the_extension(tmp_path: Path) -> None:
    seed = CORPUS / "seed"
    files = sorted((seed / "_news").glob("*.md"))
    if not files:
        pytest.skip("the shared corpus (../shared/corpus/seed) is not here")
    out = tmp_path / "out"
    build(Config(sources=(seed,), out=out, base_url=BASE_URL, include_drafts=True), NOW)
    items = json.loads((out / "feed.json").read_text())["items"]
    parsed = feedparser.parse((out / "atom.xml").read_bytes())
    checked = 0
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("---", 2)[1])
        [item] = [i for i in items if i["url"] == data["webUrl"]]
        related = {r["url"]: r for r in item["_feedpub"]["related"]}
        # Atom's standard place for them: link rel="related" (RSS 2.0 has none).
        [entry] = [e for e in parsed.entries if e.link == data["webUrl"]]
        atom_related = {
            link.href: link.get("title") for link in entry.links if link.rel == "related"
        }
        assert atom_related == {s["webUrl"]: s["title"] for s in data["related"]}
        assert len(related) == len(data["related"])
        for story in data["related"]:
            got = related[story["webUrl"]]
            assert got["title"] == story["title"]
            assert got["provider"] == story["provider"]["name"]
            when = story["publishedDateTime"]
            assert datetime.fromisoformat(got["date_published"]) == when
            checked += 1
        assert item["_feedpub"]["quality"] == data["quality"]
        assert item["_feedpub"]["type"] == data["type"]
    assert checked >= 1


def test_a_feed_renders_again_when_an_item_is_modified_or_its_topic_slugs_change() -> None:
    article = _article(topics=("AI",), topic_slugs=("ai",))
    digest = feed_digest(_feed(article), CTX)
    assert feed_digest(_feed(article), CTX) == digest
    modified = datetime(2024, 5, 2, tzinfo=UTC)
    assert (
        feed_digest(_feed(_article(topics=("AI",), topic_slugs=("ai",), modified=modified)), CTX)
        != digest
    )
    assert feed_digest(_feed(_article(topics=("AI",), topic_slugs=("ai-2",))), CTX) != digest
    assert feed_digest(_feed(article, icon=ICON), CTX) != digest  # branding too
