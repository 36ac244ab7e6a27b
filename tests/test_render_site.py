"""Rendering a whole site on every core gives the bytes one process gives, even when a
worker dies."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import feedpub.render.site as site_module
from feedpub.config import Config
from feedpub.model import Article, Feed
from feedpub.publish import build
from feedpub.render.context import RenderContext
from feedpub.render.site import PARALLEL_MIN_FEEDS
from tests.conftest import BASE_URL, article_text

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _site(root: Path) -> Path:
    news = root / "site" / "_news"
    news.mkdir(parents=True)
    for i in range(120):
        (news / f"2024-05-{1 + i % 28:02d}-story-{i}.md").write_text(
            article_text(
                title=f"Story {i} – “quoted”",
                url=f"https://a.example/{i}",
                date=f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                topics=[f"Topic {i % 20}", f"Topic {i % 7}"],
                domain=f"p{i % 6}.example",
            )
        )
    return root / "site"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _build(source: Path, out: Path, workers: int) -> dict[str, bytes]:
    config = Config(sources=(source,), out=out, base_url=BASE_URL, state=None)
    report = build(config, NOW, workers=workers)
    assert report.rendered >= PARALLEL_MIN_FEEDS  # enough feeds for worker processes
    return _files(out)


def test_workers_render_the_bytes_one_process_renders(tmp_path: Path) -> None:
    source = _site(tmp_path)
    assert _build(source, tmp_path / "two", 2) == _build(source, tmp_path / "one", 1)


def test_what_a_dying_worker_left_undone_is_rendered_by_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _site(tmp_path)
    expected = _build(source, tmp_path / "one", 1)
    parent = os.getpid()
    render = site_module.render_feed_files

    def dies_in_a_worker(feed: Feed[Article], ctx: RenderContext) -> dict[str, bytes]:
        if os.getpid() != parent and feed.folder.startswith("topics/"):
            (tmp_path / f"died-{os.getpid()}").touch()
            os._exit(9)  # as the kernel's OOM killer would end it
        return render(feed, ctx)

    monkeypatch.setattr(site_module, "render_feed_files", dies_in_a_worker)
    assert _build(source, tmp_path / "two", 2) == expected
    assert len(list(tmp_path.glob("died-*"))) == 2  # both workers died, the build did not


def test_a_renderer_error_in_a_worker_is_raised_by_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _site(tmp_path)

    def fails(feed: Feed[Article], ctx: RenderContext) -> dict[str, bytes]:
        raise ValueError(f"cannot render {feed.folder or 'the site feed'}")

    monkeypatch.setattr(site_module, "render_feed_files", fails)
    with pytest.raises(ValueError, match="cannot render"):
        _build(source, tmp_path / "two", 2)
