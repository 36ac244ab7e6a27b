"""Editorial feeds on small sites: keywords, config errors, warnings, top-stories rules."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from feedpub.cli import main
from feedpub.config import Config, load_config
from feedpub.editorial.keywords import compile_keywords
from feedpub.editorial.select import story_score, top_stories
from feedpub.editorial.spec import CustomFeedSpec, TopStoriesSpec
from feedpub.errors import ConfigError
from feedpub.model import Article
from feedpub.publish import BuildReport, build
from tests.conftest import BASE_URL, REPO
from tests.feedcheck import check_feed_folder

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def ids(out: Path, folder: str) -> list[str]:
    document = json.loads((out / folder / "feed.json").read_text(encoding="utf-8"))
    return [item["id"].rsplit(":", 1)[-1] for item in document["items"]]


def build_site(site: Path, out: Path, **settings: object) -> BuildReport:
    config = Config(sources=(site,), out=out, base_url=BASE_URL, state=out.parent / "state.db")
    return build(replace(config, **settings), NOW)  # type: ignore[arg-type]


@pytest.fixture
def keyword_site(write_article: Callable[..., Path], site: Path) -> Path:
    stories = {
        "phrase-title": ("Power\n  Apps gets a new editor", "Nothing else."),
        "phrase-excerpt": ("A release note", "Today: POWER APPS, everywhere."),
        "split-phrase": ("Power outage", "Apps were down."),
        "inside-a-word": ("Appstore news", "Whatsapp and applications, superapps."),
        "whole-word": ("Our app", "One word."),
        "accented": ("Une nouvelle pour Zürich", "Rien."),
        "decomposed": ("Le Cafe\u0301 du coin", "Excerpt."),  # e + combining acute accent
        "accent-inside": ("Cafés à Zürichsee", "Plural and compound: no match."),
        "snake": ("app_store is one identifier", "Underscore joins words."),
    }
    for day, (name, (title, excerpt)) in enumerate(stories.items(), start=1):
        write_article(
            f"2024-05-{day:02d}-{name}.md",
            title=title,
            excerpt=excerpt,
            url=f"https://news.example.com/{name}",
            date=f"2024-05-{day:02d}T10:00:00Z",
        )
    return site


def test_a_keyword_feed_matches_phrases_and_non_ascii_words_on_word_boundaries(
    keyword_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    feeds = {
        "phrase": CustomFeedSpec("phrase", "Phrase", keywords=("power apps",)),
        "word": CustomFeedSpec("word", "Word", keywords=("App",)),
        "accents": CustomFeedSpec("accents", "Accents", keywords=("zürich", "CAFÉ")),
    }
    report = build_site(keyword_site, out, feeds=feeds)
    assert report.warnings == ()
    assert ids(out, "feeds/phrase") == ["phrase-excerpt", "phrase-title"]
    assert ids(out, "feeds/word") == ["whole-word"]
    assert ids(out, "feeds/accents") == ["decomposed", "accented"]
    for folder in ("feeds/phrase", "feeds/word", "feeds/accents"):
        check_feed_folder(out, folder, BASE_URL)


def test_keywords_in_excerpts_still_match_when_articles_come_from_the_cache(
    keyword_site: Path, tmp_path: Path, write_article: Callable[..., Path]
) -> None:
    out = tmp_path / "out"
    feeds = {"phrase": CustomFeedSpec("phrase", "Phrase", keywords=("power apps",))}
    build_site(keyword_site, out, feeds=feeds)
    write_article("2024-05-20-late.md", title="Late", url="https://news.example.com/late")
    report = build_site(keyword_site, out, feeds=feeds)
    assert not report.skipped
    assert ids(out, "feeds/phrase") == ["phrase-excerpt", "phrase-title"]


def test_keyword_matcher_units() -> None:
    matcher = compile_keywords(["machine learning", "Ægir", " "])
    assert matcher.matches("Machine\tLearning, explained")
    assert matcher.matches("", "about ægir.")
    assert not matcher.matches("machinelearning")
    assert not matcher.matches("machine learnings")
    assert not matcher.matches("Ægirs")
    text = unicodedata.normalize("NFD", "ÆGIR in NFD")
    assert matcher.matches(text)
    assert not compile_keywords([]).matches("anything")


def test_filters_naming_nothing_are_warnings_and_match_nothing(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    write_article("2024-05-01-a.md", topics=["AI"], provider="One", domain="one.example")
    out = tmp_path / "out"
    feeds = {
        "x": CustomFeedSpec(
            "x", "X", topics_all=("AI", "Robots"), exclude_providers=("nope.example",)
        ),
        "y": CustomFeedSpec("y", "Y", providers=("www.one.example",), topics_any=("ai",)),
    }
    report = build_site(site, out, feeds=feeds)
    assert report.warnings == (
        "config: [feeds.x] topics_all: 'Robots' matches no topic of the published articles",
        "config: [feeds.x] exclude_providers: 'nope.example' matches no provider of the "
        "published articles",
    )
    assert ids(out, "feeds/x") == []
    assert ids(out, "feeds/y") == ["a"]
    # An empty feed is still a valid one, dated by the site's newest story, not 1970.
    parsed = feedparser.parse((out / "feeds" / "x" / "atom.xml").read_bytes())
    assert not parsed.bozo
    assert parsed.feed.updated.startswith("2024-05-01")


def test_custom_feeds_have_archives_and_render_incrementally(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    for day in range(1, 6):
        write_article(
            f"2024-05-0{day}-s{day}.md",
            url=f"https://news.example.com/{day}",
            date=f"2024-05-0{day}T10:00:00Z",
            topics=["AI"] if day % 2 else ["Space"],
        )
    out = tmp_path / "out"
    feeds = {
        "ai": CustomFeedSpec("ai", "AI", topics_any=("AI",), max_items=1),
        "space": CustomFeedSpec("space", "Space", topics_any=("Space",)),
    }
    build_site(site, out, feeds=feeds, archives=True)
    assert ids(out, "feeds/ai") == ["s5"]
    assert ids(out, "feeds/ai/archive/1") == ["s1"]
    assert ids(out, "feeds/ai/archive/3") == ["s5"]
    assert ids(out, "feeds/space") == ["s4", "s2"]
    write_article(
        "2024-05-09-s9.md",
        url="https://news.example.com/9",
        date="2024-05-09T10:00:00Z",
        topics=["Space"],
    )
    report = build_site(site, out, feeds=feeds, archives=True)
    written = set(report.written)
    assert "feeds/space/rss.xml" in written
    assert not any(path.startswith("feeds/ai/") for path in written), sorted(written)


def _story(key: str, day: int, quality: int, heat: int) -> Article:
    when = NOW - timedelta(days=day)
    return Article(key, key + ".md", key, f"https://x.example/{key}", when, quality, heat)


def test_top_stories_score_window_ties_and_order() -> None:
    stories = [
        _story("future", -1, 500, 500),  # after now: not in the window
        _story("old", 8, 500, 500),  # before the window
        _story("edge", 7, 100, 0),  # exactly window_days ago: in
        _story("unrated", 1, -1, -1),  # -1 counts as 0
        _story("heat-only", 2, -1, 30),
        _story("tie-newer", 3, 15, 15),
        _story("tie-older", 4, 20, 10),
        _story("best", 5, 60, 0),
    ]
    assert story_score(stories[3]) == 0 and story_score(stories[4]) == 30
    spec = TopStoriesSpec(window_days=7, max_items=4)
    ranked = top_stories(stories, spec, NOW)
    # Scores: edge 100, best 60, then three at 30 (the newest two are in), unrated 0.
    assert [(rank, a.key) for rank, a in ranked] == [
        (3, "heat-only"),
        (4, "tie-newer"),
        (2, "best"),
        (1, "edge"),
    ]
    assert top_stories(list(reversed(stories)), spec, NOW) == ranked


def test_top_stories_feed_on_a_small_site(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    for day, quality in ((1, 10), (2, 90), (3, 50), (20, 99)):
        write_article(
            f"2024-05-{31 - day:02d}-q{quality}.md",
            quality=quality,
            url=f"https://news.example.com/{quality}",
            date=(NOW - timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            topics=["AI"],
        )
    out = tmp_path / "out"
    build_site(site, out, top_stories=TopStoriesSpec(max_items=2, per_topic=True))
    document = json.loads((out / "top" / "feed.json").read_text(encoding="utf-8"))
    assert [(i["id"].rsplit(":", 1)[-1], i["_feedpub"]["rank"]) for i in document["items"]] == [
        ("q90", 1),
        ("q50", 2),
    ]
    assert ids(out, "topics/ai/top") == ["q90", "q50"]
    page = (out / "top" / "index.html").read_text(encoding="utf-8")
    assert "Top 1" in page and "Top stories feed" in page
    for folder in ("top", "topics/ai/top"):
        check_feed_folder(out, folder, BASE_URL)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[feeds.x]\ntitle = "X"\ntopic_any = ["AI"]\n',
            "config.toml: feeds.x: unknown key 'topic_any' (known keys: description, "
            "exclude_providers, exclude_topics, keywords, max_age_days, max_items, min_quality, "
            "providers, title, topics_all, topics_any, type)",
        ),
        (
            '[feeds.x]\ntitle = "X"\ntopics_any = "AI"\n',
            "feeds.x: topics_any must be a non-empty list",
        ),
        (
            '[feeds.x]\ntitle = "X"\nkeywords = [1]\n',
            "feeds.x: keywords must be a list of non-empty",
        ),
        ('[feeds.x]\ntitle = "X"\nmin_quality = "high"\n', "feeds.x: min_quality must be a whole"),
        (
            '[feeds.x]\ntitle = "X"\nmax_items = 0\n',
            "feeds.x: max_items must be a whole number of at least 1",
        ),
        (
            '[feeds.x]\ntitle = "X"\nmax_age_days = -1\n',
            "feeds.x: max_age_days must be a number of days",
        ),
        (
            '[feeds.x]\ntitle = "X"\ntype = "podcast"\n',
            'feeds.x: type must be "article" or "video"',
        ),
        ('[feeds.x]\ndescription = "no title"\n', "feeds.x: title is missing"),
        ('[feeds.X_Y]\ntitle = "X"\n', "feeds.X_Y: a feed's name is its folder"),
        ("feeds = 3\n", "feeds must be a table"),
        ("[top_stories]\nwindow = 3\n", "top_stories: unknown key 'window'"),
        ("[top_stories]\nwindow_days = 0\n", "top_stories: window_days must be a number above 0"),
        ('[top_stories]\nper_topic = "yes"\n', "top_stories: per_topic must be true or false"),
        ("match_keywords = 1\n", "match_keywords must be true or false"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, text))
    assert message in str(error.value)


def test_config_reads_every_key(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path,
            "match_keywords = true\n"
            '[feeds.ms-ai]\ntitle = "Microsoft AI"\ndescription = "No rumours"\n'
            'topics_any = ["AI"]\ntopics_all = ["Microsoft"]\nexclude_topics = ["Rumors"]\n'
            'providers = ["a.example"]\nexclude_providers = ["B"]\ntype = "video"\n'
            'min_quality = 5\nkeywords = ["x y"]\nmax_age_days = 2.5\nmax_items = 9\n'
            '[top_stories]\ntitle = "Best"\nwindow_days = 3\nmax_items = 4\nper_topic = true\n',
        )
    )
    assert config.match_keywords is True
    assert config.feeds == {
        "ms-ai": CustomFeedSpec(
            "ms-ai",
            "Microsoft AI",
            "No rumours",
            ("AI",),
            ("Microsoft",),
            ("Rumors",),
            ("a.example",),
            ("B",),
            "video",
            5,
            ("x y",),
            2.5,
            9,
        )
    }
    assert config.top_stories == TopStoriesSpec("Best", "", 3.0, 4, True)
    assert load_config(write_config(tmp_path, "")).top_stories is None


def test_now_must_be_a_timestamp(
    write_article: Callable[..., Path],
    site: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_article("2024-06-01-a.md", date="2024-06-01T01:00:00Z")
    config = write_config(tmp_path, f'source = "{site}"\n[top_stories]\nwindow_days = 1\n')
    args = ["build", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"]
    assert main([*args, "--now", "yesterday"]) == 2
    assert "argument --now: not an ISO 8601 timestamp: 'yesterday'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    # 02:00 at +02:00 is midnight UTC: the story (01:00 UTC) is still to come.
    assert main([*args, "--now", "2024-06-01T02:00:00+02:00"]) == 0
    assert ids(tmp_path / "out", "top") == []
    # A timestamp without an offset is UTC: 02:00 UTC, the story is in the window.
    assert main([*args, "--now", "2024-06-01T02:00:00"]) == 0
    assert ids(tmp_path / "out", "top") == ["a"]


def test_the_documented_examples_are_valid_config(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "editorial-feeds.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in doc.split("```toml\n")[1:]]
    config = load_config(
        write_config(tmp_path, "\n".join(sorted(blocks, key=lambda block: block.startswith("["))))
    )
    assert sorted(config.feeds) == ["copilot", "microsoft-ai", "videos"]
    assert config.feeds["videos"].kind == "video"
    assert config.feeds["microsoft-ai"].exclude_topics == ("Rumors",)
    assert config.top_stories == TopStoriesSpec(window_days=7, max_items=10, per_topic=True)
    assert config.match_keywords
