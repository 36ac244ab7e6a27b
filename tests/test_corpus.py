"""The real Smartable corpus (../shared/corpus/powerapps), when it is here."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
import yaml

from feedpub.config import Config
from feedpub.publish import build
from feedpub.selection import canonical_url
from feedpub.taxonomy import normalize_name
from tests.conftest import BASE_URL
from tests.feedcheck import check_feed_folder

RAW_ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", re.I)


def raw_front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8-sig")
    data = yaml.safe_load(text.split("---", 2)[1])
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "powerapps"
    if not (corpus / "_news").is_dir():
        pytest.skip("the shared corpus (../shared/corpus/powerapps) is not here")
    out = tmp_path_factory.mktemp("corpus") / "out"
    config = Config(
        sources=(corpus,), out=out, base_url=BASE_URL, max_items=1000, title="Power Apps"
    )
    report = build(config, datetime(2026, 11, 27, tzinfo=UTC))
    return out, report.to_dict() | {"corpus": corpus}


def test_counts_add_up(corpus_build: tuple[Path, dict[str, object]]) -> None:
    _, report = corpus_build
    assert report["files_read"] == 192
    assert report["drafts"] == 60
    assert report["published"] == 131  # 132 published files, one URL carried twice
    assert report["duplicates"] == 1
    assert report["rejected"] == []


def test_every_published_article_is_in_its_feeds_and_no_draft_anywhere(
    corpus_build: tuple[Path, dict[str, object]],
) -> None:
    out, report = corpus_build
    corpus = report["corpus"]
    assert isinstance(corpus, Path)
    published: dict[str, dict[str, object]] = {}
    drafts: set[str] = set()
    for path in sorted((corpus / "_news").glob("*.md")):
        data = raw_front_matter(path)
        url = canonical_url(str(data.get("webUrl") or data["originalUrl"]))
        if data["published"] is False:
            drafts.add(url)
        else:
            published[url] = data
    drafts -= set(published)

    def urls(folder: str) -> set[str]:
        doc = json.loads((out / folder / "feed.json").read_text())
        return {canonical_url(i["url"]) for i in doc["items"]}

    assert urls("") == set(published)
    topic_slugs = {}
    for topic_file in (corpus / "_data" / "topics").glob("*.yaml"):
        entry = yaml.safe_load(topic_file.read_text())
        topic_slugs[normalize_name(entry["name"])] = entry["_id"]
    topic_feeds = {p.name for p in (out / "topics").iterdir()}
    provider_feeds = {p.name for p in (out / "providers").iterdir()}
    assert len(topic_feeds) == 7 and len(provider_feeds) == 5
    for url, data in published.items():
        for name in data["topics"]:  # type: ignore[union-attr]
            assert url in urls(f"topics/{topic_slugs[normalize_name(name)]}")
        domain = data["provider"]["domain"]  # type: ignore[index]
        assert url in urls(f"providers/{domain}")
    all_feed_urls = set()
    for feed_json in out.rglob("feed.json"):
        all_feed_urls |= {
            canonical_url(i["url"]) for i in json.loads(feed_json.read_text())["items"]
        }
    assert not (all_feed_urls & drafts)


def test_every_feed_keeps_the_rules_and_the_formats_agree(
    corpus_build: tuple[Path, dict[str, object]],
) -> None:
    out, _ = corpus_build
    folders = [""] + [
        p.relative_to(out).as_posix()
        for kind in ("topics", "providers")
        for p in (out / kind).iterdir()
    ]
    assert len(folders) == 13
    for folder in folders:
        check_feed_folder(out, folder, BASE_URL)


def test_readers_never_see_raw_entities(corpus_build: tuple[Path, dict[str, object]]) -> None:
    out, _ = corpus_build
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo
        assert len(parsed.entries) == 131
        for entry in parsed.entries:
            assert not RAW_ENTITY.search(entry.title), entry.title
    doc = json.loads((out / "feed.json").read_text())
    for item in doc["items"]:
        assert not RAW_ENTITY.search(item["title"])
        assert not RAW_ENTITY.search(item.get("summary", ""))
    assert any("\u2019" in item.get("summary", "") for item in doc["items"])
