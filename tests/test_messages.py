"""What the command says when something is wrong, and counts that agree with their nouns."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.baseurl import normalize_base_url
from feedpub.cli import main
from feedpub.errors import ConfigError
from tests.conftest import BASE_URL, article_text
from tests.serving import fetch, serve_in_thread


@pytest.fixture(autouse=True)
def away_from_the_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no config.toml is: the repository's own would be read."""
    monkeypatch.chdir(tmp_path)


def errors_of(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_a_source_that_is_a_file_but_not_an_article_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an article\n")
    out = tmp_path / "out"
    assert main(["build", "--source", str(notes), "--out", str(out)]) == 1
    assert errors_of(capsys) == [
        f"feedpub: error: {notes}: the source is a file, not a folder (a source is a folder "
        "of articles, or one article file ending in .md or .markdown)"
    ]
    assert not out.exists()


def test_a_missing_source_says_it_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert main(["build", "--source", str(missing), "--out", str(tmp_path / "out")]) == 1
    assert errors_of(capsys) == [f"feedpub: error: {missing}: source folder does not exist"]
    missing = tmp_path / "story.md"
    assert main(["build", "--source", str(missing), "--out", str(tmp_path / "out")]) == 1
    assert errors_of(capsys) == [f"feedpub: error: {missing}: source file does not exist"]


def test_a_source_that_is_a_pipe_says_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    assert main(["build", "--source", str(pipe), "--out", str(tmp_path / "out")]) == 1
    assert errors_of(capsys) == [
        f"feedpub: error: {pipe}: the source is not a folder (nor a file: a device or a pipe)"
    ]


def test_a_single_article_file_is_still_a_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "story.md"
    article.write_text(article_text())
    out = tmp_path / "out"
    assert main(["build", "--source", str(article), "--out", str(out), "--now", "2024-06-01"]) == 0
    assert errors_of(capsys)[0].startswith("1 file read: 1 published,")
    assert (out / "rss.xml").is_file()


def test_an_output_folder_that_cannot_be_created_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "story.md"
    article.write_text(article_text())
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "feeds"
    assert main(["build", "--source", str(article), "--out", str(out)]) == 1
    assert errors_of(capsys) == [
        f"feedpub: error: cannot create the output folder {out}: Not a directory"
    ]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc here")
def test_an_output_folder_in_proc_is_not_blamed_on_a_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "story.md"
    article.write_text(article_text())
    assert main(["build", "--source", str(article), "--out", "/proc/x"]) == 1
    assert errors_of(capsys) == [
        "feedpub: error: cannot create the output folder /proc/x: No such file or directory"
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://ex ample.org/feeds/",
            "--base-url must be a URL without spaces or control characters; "
            "'https://ex ample.org/feeds/' holds a space at position 11 "
            "(write a space in a path as %20)",
        ),
        (
            "https://example.org/my feeds/",
            "--base-url must be a URL without spaces or control characters; "
            "'https://example.org/my feeds/' holds a space at position 23 "
            "(write a space in a path as %20)",
        ),
        (
            "https://example.org/\x1b[31m/",
            "--base-url must be a URL without spaces or control characters; "
            "'https://example.org/\\x1b[31m/' holds the character U+001B at position 21",
        ),
        (
            "https://example.org:99999/",
            "--base-url has a bad port: 99999 is not from 1 to 65535: 'https://example.org:99999/'",
        ),
        (
            "https://example.org:0/",
            "--base-url has a bad port: 0 is not from 1 to 65535: 'https://example.org:0/'",
        ),
        (
            "https://example.org:http/",
            "--base-url has a bad port (a number from 1 to 65535 is): 'https://example.org:http/'",
        ),
        (
            "https:///feeds/",
            "--base-url must name a host, as in https://example.org/feeds/: 'https:///feeds/'",
        ),
        (
            "ftp://example.org/feeds/",
            "--base-url must be an absolute http(s) URL, starting with http:// or https://, "
            "got 'ftp://example.org/feeds/'",
        ),
        (
            "example.org/feeds/",
            "--base-url must be an absolute http(s) URL, starting with http:// or https://, "
            "got 'example.org/feeds/'",
        ),
        (
            "https:example.org/feeds/",
            "--base-url must be an absolute http(s) URL, starting with http:// or https://, "
            "got 'https:example.org/feeds/'",
        ),
        (
            "https://me:secret@example.org/",
            "--base-url must not hold a user name or password (everyone reads the feeds): "
            "'https://me:secret@example.org/'",
        ),
        (
            "https://example..org/",
            "--base-url has a malformed host name 'example..org' (letters, digits and hyphens, "
            "in dot-separated parts of up to 63): 'https://example..org/'",
        ),
        (
            "https://[::1/",
            "--base-url is not a valid URL (Invalid IPv6 URL): 'https://[::1/'",
        ),
        (
            "https://example.org/feeds/?page=1",
            "--base-url must be a folder URL, without ?query or #fragment: "
            "'https://example.org/feeds/?page=1'",
        ),
    ],
)
def test_a_base_url_that_is_not_a_valid_http_url_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    article = tmp_path / "story.md"
    article.write_text(article_text())
    out = tmp_path / "out"
    assert main(["build", "--source", str(article), "--out", str(out), "--base-url", url]) == 1
    assert errors_of(capsys) == [f"feedpub: error: {message}"]
    assert not out.exists()


def test_a_bad_base_url_in_the_config_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('base_url = "https://example.org:123456/"\n')
    assert main(["build", "--config", str(config), "--source", str(tmp_path)]) == 1
    assert errors_of(capsys) == [
        f"feedpub: error: {config}: base_url has a bad port: 123456 is not from 1 to 65535: "
        "'https://example.org:123456/'"
    ]


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://bücher.example/feeds/", "https://xn--bcher-kva.example/feeds/"),
        ("https://BÜCHER.example", "https://xn--bcher-kva.example/"),
        ("https://faß.example/", "https://xn--fa-hia.example/"),  # as browsers do (UTS 46)
        ("https://example.org/nachrichten/über/", "https://example.org/nachrichten/%C3%BCber/"),
        ("https://example.org/a%20b/[x]/", "https://example.org/a%20b/%5Bx%5D/"),
        ("https://example.org/100%/", "https://example.org/100%25/"),
        ("https://example.org/news/feeds", "https://example.org/news/feeds/"),
        (
            "https://Example.ORG:8443/feeds/",
            "https://Example.ORG:8443/feeds/",
        ),  # ids stay as they were
        ("HTTP://[::1]:8000/", "http://[::1]:8000/"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"),
    ],
)
def test_base_urls_are_written_in_their_ascii_form(url: str, normalized: str) -> None:
    assert normalize_base_url(url) == normalized
    assert normalize_base_url(normalized) == normalized  # and stay so


@given(
    host=st.text(st.characters(categories=["L", "N"]) | st.sampled_from("-."), min_size=1),
    path=st.text(max_size=40),
    port=st.none() | st.integers(-1, 70000),
)
def test_any_base_url_is_refused_or_made_a_valid_ascii_url(
    host: str, path: str, port: int | None
) -> None:
    url = f"https://{host}{'' if port is None else f':{port}'}/{path}"
    try:
        normalized = normalize_base_url(url)
    except ConfigError as e:
        assert str(e).startswith("base_url ")
        return
    assert normalized.isascii() and normalized.endswith("/")
    assert not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in normalized)
    parts = urlsplit(normalized)
    assert parts.scheme == "https" and parts.hostname and not parts.query and not parts.fragment
    assert parts.port == port or (port is None and parts.port is None)
    assert normalize_base_url(normalized) == normalized


def test_a_host_name_that_idna_refuses_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^base_url has a host name that cannot be written in"):
        normalize_base_url("https://bü--cher-.example/")


def test_an_internationalized_base_url_makes_valid_feeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "story.md"
    article.write_text(article_text())
    out = tmp_path / "out"
    argv = ["build", "--source", str(article), "--out", str(out), "--now", "2024-06-01"]
    assert main([*argv, "--base-url", "https://bücher.example/nachrichten/"]) == 0
    for name in ("rss.xml", "atom.xml"):
        feed = feedparser.parse((out / name).read_bytes())
        assert not feed.bozo, feed.bozo_exception
        assert feed.feed.link.startswith("https://xn--bcher-kva.example/nachrichten/")
    assert "bücher" not in (out / "rss.xml").read_text(encoding="utf-8")


def test_counts_of_one_are_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    news = tmp_path / "site" / "_news"
    news.mkdir(parents=True)
    (news / "a.md").write_text(article_text(title="A", url="https://x.example/a", topics=[]))
    (news / "b.md").write_text(
        article_text(title="A again", url="https://x.example/a", date="2024-05-02T10:00:00Z")
    )
    (news / "c.md").write_text(article_text(url="https://x.example/c", published=False))
    (news / "d.md").write_text(article_text(url="https://x.example/d", date="2024-07-01T10:00:00Z"))
    config = tmp_path / "config.toml"
    config.write_text(
        '[providers."example.com"]\nenabled = false\n[topics.testing]\nenabled = false\n'
    )
    argv = ["build", "--config", str(config), "--source", str(tmp_path / "site")]
    argv += ["--out", str(tmp_path / "out"), "--base-url", BASE_URL, "--now", "2024-06-01"]
    assert main(argv) == 0
    summary, feeds = errors_of(capsys)
    assert summary == (
        "4 files read: 1 published, 1 scheduled (next at 2024-07-01 10:00 UTC), "
        "1 draft skipped, 1 duplicate merged, 0 rejected"
    )
    assert feeds.startswith("1 feed: 1 rendered, ")


def test_bare_feedpub_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: feedpub [-h] [--version] COMMAND ...")
    assert "build      build every feed into the output folder" in err


def test_an_internationalized_base_url_previews_on_its_encoded_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "story.md"
    article.write_text(article_text())
    out = tmp_path / "out"
    argv = ["build", "--source", str(article), "--out", str(out), "--now", "2024-06-01"]
    assert main([*argv, "--base-url", "https://bücher.example/nachrichten/über"]) == 0
    base_url = "https://xn--bcher-kva.example/nachrichten/%C3%BCber/"
    with serve_in_thread(out, base_url=base_url) as served:
        assert served.url.endswith("/nachrichten/%C3%BCber/")
        landing = fetch(served.url, "/nachrichten/%C3%BCber/")
        assert landing.status == 200
        links = re.findall(rb'<link rel="alternate"[^>]* href="([^"]+)"', landing.body)
        assert links
        for link in links:
            assert link.decode().startswith(served.url)
            assert fetch(served.url, urlsplit(link.decode()).path).status == 200
        rss = fetch(served.url, "/nachrichten/%C3%BCber/rss.xml")
        assert rss.status == 200
        assert b'href="/nachrichten/%C3%BCber/feed.xsl"' in rss.body
        assert fetch(served.url, "/nachrichten/%C3%BCber/feed.xsl").status == 200
        moved = fetch(served.url, "/")
        assert (moved.status, moved.header("Location")) == (302, "/nachrichten/%C3%BCber/")
