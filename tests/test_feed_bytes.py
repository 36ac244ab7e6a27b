"""No feed file grows past max_feed_bytes: it keeps the newest items that fit."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from feedpub.config import Config
from feedpub.publish import build
from tests.conftest import BASE_URL

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def test_a_feed_file_keeps_the_newest_items_that_fit(
    write_article: Callable[..., Path], site: Path, tmp_path: Path
) -> None:
    for day in range(1, 31):
        write_article(
            f"2024-05-{day:02d}-s.md",
            title=f"Story {day}",
            url=f"https://news.example.com/{day}",
            date=f"2024-05-{day:02d}T10:00:00Z",
            excerpt="word " * 900,  # about 4.5 KB each
        )
    config = Config(sources=(site,), out=tmp_path / "whole", base_url=BASE_URL, max_items=100)
    build(config, NOW)
    every = [e.title for e in feedparser.parse((config.out / "rss.xml").read_bytes()).entries]
    assert len(every) == 30

    capped = replace(config, out=tmp_path / "capped", max_feed_bytes=40_000)
    build(capped, NOW)
    for name in ("rss.xml", "atom.xml", "feed.json"):
        data = (capped.out / name).read_bytes()
        assert len(data) <= 40_000, name
        if name == "feed.json":
            titles = [item["title"] for item in json.loads(data)["items"]]
        else:
            titles = [e.title for e in feedparser.parse(data).entries]
        assert 1 <= len(titles) < 30, name
        assert titles == every[: len(titles)], f"{name}: the newest items, in order"


def test_max_feed_bytes_is_a_config_key(tmp_path: Path) -> None:
    from feedpub.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('source = ["site"]\nmax_feed_bytes = 50000\n')
    assert load_config(path).max_feed_bytes == 50_000
