"""Every broken file is a named rejection with its line, never a crash.

The fixtures in ``tests/data/broken/`` cover each failure class; each one's exact
message is in ``tests/data/broken/expected.toml``. Failures that cannot live in
a repository (special files, huge files, undecodable names) are made here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from feedpub.model import Rejection
from feedpub.sources import SourceFile, display_name, load_file, load_sources, url_problem
from feedpub.text import clean_text
from tests.conftest import article_text

BROKEN = Path(__file__).parent / "data" / "broken"
EXPECTED: dict[str, dict[str, object]] = tomllib.loads(
    (BROKEN / "expected.toml").read_text(encoding="utf-8")
)


def reject(path: Path, max_bytes: int = 1 << 20) -> Rejection:
    result = load_file(SourceFile(path, path.name), max_bytes)
    assert result.article is None, f"{path.name} was accepted"
    assert result.rejection is not None
    return result.rejection


def test_every_fixture_has_an_expected_message_and_every_message_a_fixture() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.md")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 90


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_broken_file_is_rejected_with_its_exact_line_and_message(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the !!python fixtures would `touch feedpub-pwned` here
    rejection = reject(BROKEN / name)
    expected = EXPECTED[name]
    assert (rejection.line, rejection.reason) == (expected.get("line"), expected["message"])
    where = f"{name}:{rejection.line}" if rejection.line is not None else name
    assert str(rejection) == f"{where}: {expected['message']}"
    assert not (tmp_path / "feedpub-pwned").exists()


def test_a_file_over_the_limit_is_rejected_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with open(path, "wb") as f:  # sparse: 64 MiB of nothing, cheap to make
        f.truncate(64 << 20)
    assert reject(path).reason == (
        "file is 67,108,864 bytes, over the limit of 1,048,576 (max_file_bytes)"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_rejected_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "pipe.md"
    os.mkfifo(path)
    assert reject(path).reason == "not a regular file"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_link_to_a_device_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "zero.md"
    path.symlink_to("/dev/zero")
    assert reject(path).reason == "not a regular file"


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes on POSIX only")
def test_a_file_name_that_is_not_utf8_is_named_and_still_published(
    write_article: Callable[..., Path], site: Path
) -> None:
    write_article("2024-05-01-ok.md", url="https://a.example/ok")
    news = site / "_news"
    try:
        (news / os.fsdecode(b"2024-05-02-caf\xe9.md")).write_text(
            article_text(url="https://a.example/cafe")
        )
        (news / "2024-05-03-bad\nname.md").write_text("---\ntitle: [\n---\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses such names")
    result = load_sources([site], 1 << 20)
    assert len(result.articles) == 2
    cafe = next(a for a in result.articles if a.url.endswith("/cafe"))
    assert cafe.path.endswith("2024-05-02-caf\\xe9.md")
    assert cafe.key == "2024-05-02:caf%E9"
    assert [r.path.rsplit("/", 1)[-1] for r in result.rejections] == ["2024-05-03-bad\\nname.md"]


def test_display_names_are_printable() -> None:
    assert display_name(Path("plain/name.md")) == "plain/name.md"
    assert display_name(Path("tab\there.md")) == "tab\\there.md"
    assert display_name(Path("rtl\u202eexe.md")) == "rtl\\u202eexe.md"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://example.com/a", None),
        ("https://ex\u00e4mple.com/\u00fcber?q=\u65e5", None),
        ("https://example.com/a|b{c}^", None),
        ("javascript:alert(1)", "is not an http(s) URL"),
        ("JAVASCRIPT:alert(1)", "is not an http(s) URL"),
        (" https://example.com/", "holds spaces or control characters"),
        ("https://example.com/\u2028", "holds spaces or control characters"),
        ("https://example.com/\u200b", "holds spaces or control characters"),
        ("https://example.com/\ud800", "holds spaces or control characters"),
        ("https://example.com/\uffff", "holds spaces or control characters"),
        ("https://example.com/\x85", "holds spaces or control characters"),
        ('https://example.com/"', 'holds characters a URL cannot (" < > \\ `)'),
        ("https://example.com\\@evil.example/", 'holds characters a URL cannot (" < > \\ `)'),
        ("https://example.com:0x50/", "is not a valid URL"),
        ("https://", "has no host"),
    ],
)
def test_only_plain_http_urls_pass(url: str, problem: str | None) -> None:
    assert url_problem(url) == problem


def test_text_cleaning_removes_every_control_and_folds_every_break() -> None:
    assert clean_text(" a\x01b\x7fc\x9fd\ufffee\ud800f ") == "abcdef"
    assert clean_text("one\x85two\u2028three\u2029four\r\n\tfive") == "one two three four five"
    assert clean_text("we&#8217;re &amp;amp; &#1;done") == "we\u2019re &amp; done"
    assert clean_text("\u202eright-to-left\u202c stays") == "\u202eright-to-left\u202c stays"


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("Wed, 01 May 2024 10:00:00 GMT", "2024-05-01T10:00:00+00:00"),
        ("1 May 2024 10:00 EST", "2024-05-01T15:00:00+00:00"),
        ("1 May 2024 10:00 +0200", "2024-05-01T08:00:00+00:00"),
        ("2024-05-01 10:00", "2024-05-01T10:00:00+00:00"),
    ],
)
def test_zone_names_of_rfc_822_and_offsets_are_read_the_same_on_every_machine(
    write_article: Callable[..., Path], written: str, utc: str
) -> None:
    result = load_file(SourceFile(write_article("d.md", date=f'"{written}"'), "d.md"), 1 << 20)
    assert result.article is not None, result.rejection
    assert result.article.published.isoformat() == utc
