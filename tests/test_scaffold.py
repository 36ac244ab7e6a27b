"""`feedpub init`: a new site that builds as it is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest

from feedpub.cli import main
from feedpub.config import load_config
from feedpub.init import init_site as scaffold_site


def test_init_scaffolds_a_site_that_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "new" / "site"
    assert main(["init", str(site)]) == 0
    assert "wrote" in capsys.readouterr().err
    [article] = (site / "_news").glob("*-welcome.md")
    assert article.name == f"{date.today().isoformat()}-welcome.md"
    config = load_config(site / "config.toml")
    assert config.sources == (site.resolve(),) and config.stylesheet is True
    assert main(["build", "--config", str(site / "config.toml")]) == 0
    assert "1 published" in capsys.readouterr().err
    feed = feedparser.parse((site / "feeds" / "topics" / "welcome" / "rss.xml").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == ["Welcome to your news feeds"]
    assert (site / "feeds" / "feed.xsl").is_file() and (site / "feeds" / "index.html").is_file()


def test_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.toml").write_text("# mine\n")
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'config.toml'} already exists" in err and "never overwrites" in err
    assert (tmp_path / "config.toml").read_text() == "# mine\n"
    assert not (tmp_path / "_news").exists(), "nothing is written when anything is in the way"


def test_the_config_documents_every_key_it_sets(tmp_path: Path) -> None:
    [config_path, _] = scaffold_site(tmp_path, datetime(2024, 5, 1, 12, tzinfo=UTC))
    text = config_path.read_text()
    for key in ("title", "base_url", "source", "out", "max_items", "stylesheet", "min_quality"):
        assert f"{key} =" in text
    assert sum(1 for line in text.splitlines() if line.startswith("#")) >= 20, "commented"
    assert (tmp_path / "_news" / "2024-05-01-welcome.md").read_text().count("2024-05-01") == 1
