"""Editorial feeds on the real corpus (../shared/corpus/powerapps), checked independently.

Every expectation here is computed in the test from the article files, read
with yaml directly: drafts, duplicates, topics, providers, keywords, ages and
scores are worked out again, without feedpub's loading or grouping.
"""

from __future__ import annotations

import hashlib
import html
import json
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from feedpub.cli import main
from tests.conftest import BASE_URL, CORPUS
from tests.feedcheck import check_feed_folder

NOW = datetime(2021, 6, 3, tzinfo=UTC)
SITE = urlsplit(BASE_URL).hostname

CONFIG = f"""
title = "Power Apps"
base_url = "{BASE_URL}"
max_items = 1000
source = "{CORPUS / "powerapps"}"

[feeds.videos]
title = "Videos"
type = "video"

[feeds.portals-or-teams]
title = "Portals or Teams"
topics_any = ["Portals", "teams-integration"]

[feeds.apps-and-portals]
title = "Power Apps and Portals"
topics_all = ["power apps", "PORTALS"]

[feeds.not-portals]
title = "Not Portals"
exclude_topics = ["Portals"]

[feeds.from-microsoft]
title = "From Microsoft"
providers = ["Microsoft"]

[feeds.not-microsoft]
title = "Not from Microsoft"
exclude_providers = ["www.microsoft.com"]

[feeds.best]
title = "Best"
min_quality = 100

[feeds.canvas-words]
title = "Canvas words"
keywords = ["canvas app", "Teams"]

[feeds.recent]
title = "Recent"
max_age_days = 60

[feeds.seven]
title = "Seven"
max_items = 7

[feeds.combined]
title = "Combined"
type = "article"
topics_any = ["Power Apps"]
exclude_topics = ["Portals"]
providers = ["microsoft.com"]
min_quality = 80
keywords = ["power apps"]
max_age_days = 400
max_items = 12

[top_stories]
window_days = 60
max_items = 5
per_topic = true
"""


@dataclass(frozen=True)
class Story:
    id: str
    path: str
    title: str
    excerpt: str
    published: datetime
    quality: int
    heat: int
    kind: str
    domain: str
    provider: str
    topics: frozenset[str]  # slugs


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def mentions(text: str, keyword: str) -> bool:
    """The keyword as a whole word or phrase, found by scanning, not by feedpub's regex."""
    haystack, needle = _fold(html.unescape(text)), _fold(keyword)
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = haystack[start - 1] if start else " "
        after = haystack[end] if end < len(haystack) else " "
        if not _word(before) and not _word(after):
            return True
        start = haystack.find(needle, start + 1)
    return False


def _front(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("---", 2)[1])
    assert isinstance(data, dict)
    return data


def _number(value: object) -> int:
    return value if isinstance(value, int) else 0


def topic_table(corpus: Path) -> dict[str, dict[str, object]]:
    """Every taxonomy entry by its folded name and by its id."""
    table: dict[str, dict[str, object]] = {}
    for path in sorted((corpus / "_data" / "topics").glob("*.yaml")):
        entry = yaml.safe_load(path.read_text(encoding="utf-8"))
        table[_fold(entry["name"])] = entry
        table[_fold(entry["_id"])] = entry
    return table


def published_stories(corpus: Path) -> list[Story]:
    """Published files, one per URL (higher quality, then newer, then first file)."""
    topics = topic_table(corpus)
    by_url: dict[str, tuple[tuple[int, datetime], Story]] = {}
    for path in sorted((corpus / "_news").glob("*.md")):
        data = _front(path)
        if data.get("published") is False:
            continue
        published = data["publishedDateTime"]
        assert isinstance(published, datetime)
        stem = path.stem
        names = data.get("topics") or []
        assert isinstance(names, list)
        provider = data["provider"]
        assert isinstance(provider, dict)
        story = Story(
            id=f"tag:{SITE},{stem[:10]}:{stem[11:]}",
            path=path.name,
            title=str(data["title"]),
            excerpt=str(data.get("excerpt") or ""),
            published=published.astimezone(UTC),
            quality=_number(data.get("quality")),
            heat=_number(data.get("heat")),
            kind=str(data.get("type") or "article"),
            domain=str(provider["domain"]),
            provider=str(provider["name"]),
            topics=frozenset(str(topics[_fold(n)]["_id"]) for n in names),
        )
        # The corpus carries one URL twice, spelled alike: lowercase is canonical enough here.
        url = str(data.get("webUrl") or data["originalUrl"]).lower()
        rank = (story.quality, story.published)
        kept = by_url.get(url)
        if kept is None or rank > kept[0]:
            by_url[url] = (rank, story)
    return [story for _, story in by_url.values()]


def newest_first(stories: list[Story]) -> list[Story]:
    return sorted(stories, key=lambda s: (-s.published.timestamp(), -s.quality, s.id))


def score(story: Story) -> int:
    """The documented score: quality + heat, a missing or negative value counting as 0."""
    return max(story.quality, 0) + max(story.heat, 0)


def feed_ids(out: Path, folder: str) -> list[str]:
    document = json.loads((out / folder / "feed.json").read_text(encoding="utf-8"))
    return [item["id"] for item in document["items"]]


def digests(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Story], dict[str, object]]:
    corpus = CORPUS / "powerapps"
    if not (corpus / "_news").is_dir():
        pytest.skip("the shared corpus (../shared/corpus/powerapps) is not here")
    root = tmp_path_factory.mktemp("editorial")
    (root / "config.toml").write_text(CONFIG, encoding="utf-8")
    args = ["build", "--config", str(root / "config.toml"), "--out", str(root / "out")]
    assert main([*args, "--now", "2021-06-03T00:00:00Z", "--quiet"]) == 0
    return root / "out", published_stories(corpus), {"args": args, "root": root}


def test_the_independent_reading_agrees_on_the_site_feed(
    built: tuple[Path, list[Story], dict[str, object]],
) -> None:
    out, stories, _ = built
    assert len(stories) == 131
    assert feed_ids(out, "") == [s.id for s in newest_first(stories)]


def _expected(stories: list[Story], name: str) -> list[Story]:
    """What each [feeds.<name>] of CONFIG should hold, computed from the files."""
    portals, teams, apps = "portals", "teams-integration", "power-apps"
    rules = {
        "videos": lambda s: s.kind == "video",
        "portals-or-teams": lambda s: bool(s.topics & {portals, teams}),
        "apps-and-portals": lambda s: {apps, portals} <= s.topics,
        "not-portals": lambda s: portals not in s.topics,
        "from-microsoft": lambda s: s.domain == "microsoft.com",
        "not-microsoft": lambda s: s.domain != "microsoft.com",
        "best": lambda s: s.quality >= 100,
        "canvas-words": lambda s: any(
            mentions(text, k) for k in ("canvas app", "Teams") for text in (s.title, s.excerpt)
        ),
        "recent": lambda s: s.published >= NOW - timedelta(days=60),
        "seven": lambda s: True,
        "combined": lambda s: (
            s.kind == "article"
            and apps in s.topics
            and portals not in s.topics
            and s.domain == "microsoft.com"
            and s.quality >= 80
            and (mentions(s.title, "power apps") or mentions(s.excerpt, "power apps"))
            and s.published >= NOW - timedelta(days=400)
        ),
    }
    limit = {"seven": 7, "combined": 12}.get(name, 1000)
    return newest_first([s for s in stories if rules[name](s)])[:limit]


@pytest.mark.parametrize(
    "name",
    [
        "videos",
        "portals-or-teams",
        "apps-and-portals",
        "not-portals",
        "from-microsoft",
        "not-microsoft",
        "best",
        "canvas-words",
        "recent",
        "seven",
        "combined",
    ],
)
def test_each_custom_feed_holds_exactly_the_stories_its_filters_pick(
    built: tuple[Path, list[Story], dict[str, object]], name: str
) -> None:
    out, stories, _ = built
    expected = [s.id for s in _expected(stories, name)]
    assert expected, f"{name}: the corpus gives this filter nothing to show"
    assert len(expected) < len(stories), f"{name}: the filter leaves nothing out"
    assert feed_ids(out, f"feeds/{name}") == expected
    check_feed_folder(out, f"feeds/{name}", BASE_URL)
    page = (out / "feeds" / name / "index.html").read_text(encoding="utf-8")
    assert page.count('<li class="item') == len(expected)


def test_custom_and_top_feeds_are_on_the_landing_page_and_in_the_opml(
    built: tuple[Path, list[Story], dict[str, object]],
) -> None:
    out, _, _ = built
    landing = (out / "index.html").read_text(encoding="utf-8")
    opml = (out / "index.opml").read_text(encoding="utf-8")
    for folder in ["feeds/videos", "feeds/combined", "top", "topics/portals/top"]:
        assert f'href="{folder}/"' in landing
        assert f'xmlUrl="{BASE_URL}{folder}/rss.xml"' in opml


def _top(stories: list[Story], size: int) -> list[tuple[int, Story]]:
    window = [s for s in stories if NOW - timedelta(days=60) <= s.published <= NOW]
    best = sorted(window, key=lambda s: (-score(s), -s.published.timestamp(), s.id))[:size]
    return sorted(((best.index(s) + 1, s) for s in best), key=lambda p: -p[1].published.timestamp())


def test_top_stories_are_the_best_of_the_window_newest_first_with_their_rank(
    built: tuple[Path, list[Story], dict[str, object]],
) -> None:
    out, stories, _ = built
    expected = _top(stories, 5)
    document = json.loads((out / "top" / "feed.json").read_text(encoding="utf-8"))
    got = [(item["_feedpub"]["rank"], item["id"]) for item in document["items"]]
    assert got == [(rank, s.id) for rank, s in expected]
    # The window holds more than five stories and a tie at the cut (two at 97 + 97):
    # the newer one is in, the older one out.
    in_window = [s for s in stories if NOW - timedelta(days=60) <= s.published <= NOW]
    assert len(in_window) > 5
    assert sorted(score(s) for _, s in expected) == [194, 208, 208, 208, 272]
    check_feed_folder(out, "top", BASE_URL)
    for topic in ("portals", "teams-integration"):
        members = [s for s in stories if topic in s.topics]
        folder = f"topics/{topic}/top"
        document = json.loads((out / folder / "feed.json").read_text(encoding="utf-8"))
        got = [(item["_feedpub"]["rank"], item["id"]) for item in document["items"]]
        assert got == [(rank, s.id) for rank, s in _top(members, 5)]
        check_feed_folder(out, folder, BASE_URL)


def test_rebuilding_changes_no_byte(
    built: tuple[Path, list[Story], dict[str, object]], tmp_path: Path
) -> None:
    out, _, settings = built
    args = settings["args"]
    assert isinstance(args, list)
    before = digests(out)
    assert main([*args, "--now", "2021-06-03T00:00:00Z", "--quiet"]) == 0
    assert digests(out) == before
    # A fresh folder and state file: the same bytes, from scratch.
    fresh = tmp_path / "fresh"
    again = [*args[:-1], str(fresh), "--now", "2021-06-03T00:00:00+00:00", "--quiet"]
    assert main(again) == 0
    assert digests(fresh) == before


def test_top_stories_follow_now(
    built: tuple[Path, list[Story], dict[str, object]], tmp_path: Path
) -> None:
    _, stories, settings = built
    args = settings["args"]
    assert isinstance(args, list)
    out = tmp_path / "later"
    # Naive means UTC; ten days later the window starts at 2021-04-14.
    assert main([*args[:-1], str(out), "--now", "2021-06-13T00:00:00", "--quiet"]) == 0
    later = datetime(2021, 6, 13, tzinfo=UTC)
    window = [s for s in stories if later - timedelta(days=60) <= s.published <= later]
    best = sorted(window, key=lambda s: (-score(s), -s.published.timestamp(), s.id))[:5]
    assert set(feed_ids(out, "top")) == {s.id for s in best}
    assert feed_ids(out, "top") != feed_ids(built[0], "top")


def test_topics_from_keywords(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = CORPUS / "powerapps"
    if not (corpus / "_news").is_dir():
        pytest.skip("the shared corpus (../shared/corpus/powerapps) is not here")
    (tmp_path / "config.toml").write_text(
        f'source = "{corpus}"\nbase_url = "{BASE_URL}"\nmax_items = 1000\nmatch_keywords = true\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert (
        main(["build", "--config", str(tmp_path / "config.toml"), "--out", str(out), "--json"]) == 0
    )
    captured = capsys.readouterr()
    report = json.loads(captured.out)

    stories = published_stories(corpus)
    entries = {str(e["_id"]): e for e in topic_table(corpus).values()}

    def named(story: Story, slug: str) -> bool:
        keywords = entries[slug].get("keywords") or []
        assert isinstance(keywords, list)
        return any(
            mentions(text, str(k)) for k in keywords for text in (story.title, story.excerpt)
        )

    gained = {
        s.id for s in stories if any(slug not in s.topics and named(s, slug) for slug in entries)
    }
    assert report["topics_from_keywords"] == len(gained) > 0
    assert f"{len(gained)} articles gained topics from keywords" in captured.err
    by_id = {s.id: s for s in stories}
    for slug in entries:
        ids = set(feed_ids(out, f"topics/{slug}"))
        declared = {s.id for s in stories if slug in s.topics}
        # Articles keep the topics they declare...
        assert declared <= ids
        # ...and each one filed under a topic it does not declare names one of its keywords,
        for story_id in ids - declared:
            assert named(by_id[story_id], slug), (slug, story_id)
        # ...and every story naming a keyword is filed there.
        assert ids == declared | {s.id for s in stories if named(s, slug)}
    # Without match_keywords, topic feeds hold only declared topics.
    plain = tmp_path / "plain"
    (tmp_path / "config.toml").write_text(
        f'source = "{corpus}"\nbase_url = "{BASE_URL}"\nmax_items = 1000\n', encoding="utf-8"
    )
    assert main(["build", "--config", str(tmp_path / "config.toml"), "--out", str(plain)]) == 0
    assert "gained topics" not in capsys.readouterr().err
    for slug in entries:
        assert set(feed_ids(plain, f"topics/{slug}")) == {s.id for s in stories if slug in s.topics}


def test_keyword_rule_of_the_test_itself() -> None:
    """The independent matcher above: phrases, word boundaries, Unicode."""
    assert mentions("Add your Canvas  Apps to Teams", "canvas apps")
    assert not mentions("Add your canvas apps", "canvas app")
    assert mentions("Café crème", "CAFÉ")
    assert not mentions("Teamsters", "teams")
    assert not mentions("x_Teams", "teams")
