"""Modified dates come from content: an edit moves that story's Atom updated and JSON
date_modified to the edit's build, and nothing else; a rebuild without edits changes nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from feedpub.config import Config
from feedpub.publish import build
from tests.conftest import BASE_URL

ATOM = "{http://www.w3.org/2005/Atom}"
T1 = datetime(2026, 11, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 2, tzinfo=UTC)
T3 = datetime(2026, 11, 3, 12, 30, tzinfo=UTC)


def _entries(out: Path) -> dict[tuple[str, str], bytes]:
    """Every Atom entry and JSON Feed item of every feed, as bytes, by (file, id)."""
    found: dict[tuple[str, str], bytes] = {}
    for path in sorted(out.rglob("atom.xml")):
        for entry in etree.parse(str(path)).getroot().iter(f"{ATOM}entry"):
            found[(str(path.relative_to(out)), entry.findtext(f"{ATOM}id") or "")] = etree.tostring(
                entry
            )
    for path in sorted(out.rglob("feed.json")):
        for item in json.loads(path.read_bytes())["items"]:
            found[(str(path.relative_to(out)), item["id"])] = json.dumps(item).encode()
    return found


def _edit_one_story_and_check(source: Path, story: Path, tmp_path: Path) -> None:
    config = Config(
        sources=(source,),
        out=tmp_path / "out",
        base_url=BASE_URL,
        state=tmp_path / "state.sqlite",
        max_items=1000,
    )
    build(config, T1)
    before = _entries(config.out)
    assert build(config, T2).written == ()  # no edit: not one byte
    assert _entries(config.out) == before

    text = story.read_text(encoding="utf-8")
    story.write_text(text.replace("excerpt:", 'excerpt: "Edited. "\nexcerpt_was:', 1))
    build(config, T3)
    after = _entries(config.out)
    assert set(after) == set(before)
    edited = {key for key in after if after[key] != before[key]}
    assert edited, "the edited story is in some feed"
    stem = story.stem.split("-", 3)[-1]
    for file, item_id in edited:
        assert item_id.endswith(stem), f"{file}: {item_id} changed, but it was not edited"
        if file.endswith("atom.xml"):
            entry = etree.fromstring(after[(file, item_id)])
            assert entry.findtext(f"{ATOM}updated") == "2026-11-03T12:30:00+00:00"
            assert entry.findtext(f"{ATOM}published") != entry.findtext(f"{ATOM}updated")
        else:
            item = json.loads(after[(file, item_id)])
            assert item["date_modified"] == "2026-11-03T12:30:00Z"
            assert item["summary"].startswith("Edited.")
    # RSS keeps the publication date.
    rss = (config.out / "rss.xml").read_text(encoding="utf-8")
    assert "03 Nov 2026" not in rss.split("<item>", 1)[1]
    # A later rebuild keeps the edit's date: it is recorded, not the clock.
    build(config, datetime(2026, 12, 1, tzinfo=UTC))
    assert _entries(config.out) == after


def test_an_edit_moves_only_that_storys_modified_date(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    for i in range(6):
        write_article(
            f"2024-05-0{i + 1}-story-{i}.md",
            title=f"Story {i}",
            url=f"https://news.example.com/{i}",
            date=f"2024-05-0{i + 1}T10:00:00Z",
            topics=["Alpha", "Beta"] if i % 2 else ["Alpha"],
        )
    _edit_one_story_and_check(site, site / "_news" / "2024-05-03-story-2.md", tmp_path)


def test_an_edit_in_the_real_corpus(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    published = sorted(
        p
        for p in (copy / "_news").glob("*.md")
        if "published: true" in p.read_text(encoding="utf-8")
    )
    _edit_one_story_and_check(copy, published[len(published) // 2], tmp_path)
