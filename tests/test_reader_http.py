"""A real feed reader (the `reader` library) subscribed to served feeds over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reader import make_reader

from feedpub.config import Config
from feedpub.publish import build
from tests.conftest import article_text
from tests.serving import serve_in_thread

NOW = datetime(2024, 6, 1, tzinfo=UTC)
BASE_URL = "https://news.example.org/feeds/"
FORMATS = ("rss.xml", "atom.xml", "feed.json")


def write(site: Path, name: str, **fields: object) -> None:
    news = site / "_news"
    news.mkdir(parents=True, exist_ok=True)
    (news / name).write_text(article_text(**fields))  # type: ignore[arg-type]


def test_reader_subscribes_updates_and_sees_one_new_entry_per_feed(tmp_path: Path) -> None:
    site, out = tmp_path / "site", tmp_path / "out"
    for i in range(4):
        write(
            site,
            f"2024-05-0{i + 1}-story-{i}.md",
            title=f"Story {i}",
            url=f"https://a.example/{i}",
            date=f"2024-05-0{i + 1}T10:00:00Z",
            topics=["AI"],
            domain="one.example" if i % 2 else "two.example",
        )
    config = Config(sources=(site,), out=out, base_url=BASE_URL, title="Reader News")
    build(config, NOW)

    with serve_in_thread(out, prefix="/feeds/") as served:
        topic = [served.url + "topics/ai/" + name for name in FORMATS]
        untouched = served.url + "providers/two.example/rss.xml"  # the new story is not in it
        reader = make_reader(":memory:")
        for url in [*topic, untouched]:
            reader.add_feed(url)
        reader.update_feeds()

        first: dict[str, set[str]] = {}
        for url in topic:
            feed = reader.get_feed(url)
            assert feed.last_exception is None, (url, feed.last_exception)
            assert feed.title == "AI — Reader News"
            entries = list(reader.get_entries(feed=url))
            assert sorted(e.title for e in entries) == [f"Story {i}" for i in range(4)]
            assert all(e.published is not None for e in entries)
            first[url] = {e.id for e in entries}
        assert len({frozenset(ids) for ids in first.values()}) == 1, "same ids in every format"

        write(
            site,
            "2024-05-09-late.md",
            title="Late news",
            url="https://a.example/late",
            date="2024-05-09T10:00:00Z",
            topics=["AI"],
            domain="one.example",
        )
        build(config, NOW)
        served.log.clear()
        reader.update_feeds(scheduled=False)  # now, not when the feeds are next due (1 hour)

        new_ids = set()
        for url in topic:
            assert reader.get_feed(url).last_exception is None
            entries = list(reader.get_entries(feed=url))
            ids = [e.id for e in entries]
            assert len(ids) == len(set(ids)) == 5, "no duplicates"
            [added] = set(ids) - first[url]
            assert first[url] < set(ids), "every old entry kept its id"
            assert reader.get_entry((url, added)).title == "Late news"
            new_ids.add(added)
        assert len(new_ids) == 1, "the new story has one id in all three formats"
        assert len(list(reader.get_entries(feed=untouched))) == 2

    # reader sent the validators it was given; the unchanged feed cost a 304, not a download.
    assert any(
        '"GET /feeds/providers/two.example/rss.xml' in line and " 304 " in line
        for line in served.log
    ), served.log
    assert any('"GET /feeds/topics/ai/rss.xml' in line and " 200 " in line for line in served.log)
