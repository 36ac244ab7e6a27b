"""End-to-end runs of the ``feedpub`` command on temporary sites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from feedpub.cli import main
from tests.conftest import BASE_URL, REPO


def files_with_mtimes(out: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def small_site(write_article: Callable[..., Path], site: Path) -> Path:
    for i in range(5):
        write_article(
            f"2024-05-0{i + 1}-story-{i}.md",
            title=f"Story {i}",
            url=f"https://a.example/{i}",
            date=f"2024-05-0{i + 1}T10:00:00Z",
            topics=["AI"] if i % 2 else ["AI", "Space"],
            domain="one.example" if i < 3 else "two.example",
        )
    return site


def test_build_writes_every_feed_and_reports(
    small_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["build", "--source", str(small_site), "--out", str(out), "--base-url", BASE_URL])
    assert code == 0
    err = capsys.readouterr().err
    assert "5 files read: 5 published, 0 drafts skipped, 0 duplicates merged, 0 rejected" in err
    for folder in (
        "",
        "topics/ai/",
        "topics/space/",
        "providers/one.example/",
        "providers/two.example/",
    ):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert (out / folder / name).is_file(), folder + name
    assert (out / "index.opml").is_file() and (out / "index.html").is_file()


def test_building_twice_is_byte_identical_and_rewrites_nothing(
    small_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["build", "--source", str(small_site), "--out", str(out), "--base-url", BASE_URL]
    assert main(args) == 0
    first = files_with_mtimes(out)
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files_written"] == []
    assert files_with_mtimes(out) == first


def test_feeds_of_vanished_topics_are_removed_and_others_kept(
    small_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["build", "--source", str(small_site), "--out", str(out), "--base-url", BASE_URL]
    (out).mkdir()
    (out / "keep-me.txt").write_text("not ours")
    assert main(args) == 0
    for path in (small_site / "_news").glob("*.md"):
        path.write_text(path.read_text().replace('  - "Space"\n', ""))
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "topics/space/rss.xml" in report["files_removed"]
    assert not (out / "topics" / "space").exists()
    assert (out / "keep-me.txt").read_text() == "not ours"


def test_rejected_files_give_exit_code_3_and_their_reasons(
    small_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (small_site / "_news" / "broken.md").write_text(
        "---\ntitle: x\npublishedDateTime: 2024-13-01\nwebUrl: https://a.example/b\n---\n"
    )
    out = tmp_path / "out"
    code = main(["build", "--source", str(small_site), "--out", str(out), "--json"])
    assert code == 3
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["published"] == 5
    assert report["files_read"] == 6
    [rejection] = report["rejected"]
    assert rejection["path"].endswith("broken.md") and rejection["line"] == 3
    assert "broken.md:3: publishedDateTime is not a date: '2024-13-01'" in captured.err


def test_config_file_paths_are_relative_to_it_and_flags_override(
    small_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "conf" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        'title = "Configured"\nbase_url = "https://c.example/f"\nsource = ["../site"]\n'
        'out = "public"\nmax_items = 2\n[topics.ai]\ntitle = "All about AI"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--config", str(config), "--json"]) == 0
    out = config.parent / "public"
    doc = json.loads((out / "topics" / "ai" / "feed.json").read_text())
    assert doc["title"] == "All about AI"
    assert doc["feed_url"] == "https://c.example/f/topics/ai/feed.json"
    assert len(doc["items"]) == 2
    assert main(["build", "--config", str(config), "--max-items", "4"]) == 0
    assert len(json.loads((out / "feed.json").read_text())["items"]) == 4


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('titel = "typo"\n', "unknown key 'titel'"),
        ("max_items = 0\n", "max_items must be a whole number of at least 1"),
        ('base_url = "ftp://x"\n', "base_url must be an absolute http(s) URL"),
        ('base_url = "https://x.example/f?a=1"\n', "without ?query or #fragment"),
        ("[topics.ai]\nenabled = 'no'\n", "topics.ai: enabled must be true or false"),
        ("title = \n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_fatal_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, message: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(toml)
    assert main(["build", "--config", str(config), "--out", str(tmp_path / "o")]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_output_path_that_is_a_file_is_fatal(
    small_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("not a folder")
    assert main(["build", "--source", str(small_site), "--out", str(tmp_path / "taken")]) == 1
    assert "exists and is not a folder" in capsys.readouterr().err
    assert (tmp_path / "taken").read_text() == "not a folder"


def test_a_missing_source_is_fatal_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["build", "--source", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert code == 1
    assert "source folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--max-items", "lots"]) == 2
    assert main(["frobnicate"]) == 2


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    for command in ("build", "check-links", "serve", "init", "deploy"):
        assert main([command, "--help"]) == 0
        assert "usage: feedpub " + command in capsys.readouterr().out


def test_installed_command_runs_the_shipped_config(tmp_path: Path) -> None:
    """The README's first command: `feedpub build` in the repo with no flags."""
    work = tmp_path / "repo"
    work.mkdir()
    for name in ("config.toml", "example"):
        src = REPO / name
        subprocess.run(["cp", "-r", str(src), str(work / name)], check=True)
    result = subprocess.run(
        [sys.executable, "-m", "feedpub", "build"],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "0 rejected" in result.stderr
    assert (work / "feeds" / "rss.xml").is_file()
    assert len(list((work / "feeds" / "topics").iterdir())) >= 5
