from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.errors import SourceError
from feedpub.model import Article, Rejection
from feedpub.sources import SourceFile, load_file, load_sources, read_bytes
from tests.conftest import article_text


def load_one(path: Path) -> Article:
    result = load_file(SourceFile(path, path.name), 1 << 20)
    assert result.rejection is None, str(result.rejection)
    assert result.article is not None
    return result.article


def reject_one(path: Path) -> Rejection:
    result = load_file(SourceFile(path, path.name), 1 << 20)
    assert result.article is None
    assert result.rejection is not None
    return result.rejection


def test_loads_the_fields_of_a_smartable_article(write_article: Callable[..., Path]) -> None:
    extra = """images:
  - url: "https://img.example.com/a.jpg"
    width: 1200
    height: 630
related:
  - title: "Other coverage"
    webUrl: "https://other.example.net/x"
    provider:
      name: Other
heat: 12"""
    path = write_article("2024-05-01-a-story.md", topics=["AI", "Robots"], quality=77, extra=extra)
    article = load_one(path)
    assert article.title == "A story"
    assert article.url == "https://news.example.com/a-story"
    assert article.published == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert article.quality == 77 and article.heat == 12
    assert article.topics == ("AI", "Robots")
    assert article.provider is not None and article.provider.domain == "example.com"
    assert article.images[0].url == "https://img.example.com/a.jpg"
    assert (article.images[0].width, article.images[0].height) == (1200, 630)
    assert article.related[0].provider == "Other"
    assert article.key == "2024-05-01:a-story"
    assert not article.draft


def test_crlf_and_bom_files_load_like_lf_ones(write_article: Callable[..., Path]) -> None:
    lf = article_text(title="Same", topics=["X"])
    crlf = write_article("crlf.md", text="\ufeff" + lf.replace("\n", "\r\n"))
    plain = write_article("lf.md", text=lf)
    a, b = load_one(crlf), load_one(plain)
    assert (a.title, a.url, a.published, a.topics) == (b.title, b.url, b.published, b.topics)


def test_html_entities_are_decoded_once(write_article: Callable[..., Path]) -> None:
    path = write_article(
        "e.md", title="Maps &amp; apps", excerpt="we&#8217;re here &amp;amp; there\u00a0 now"
    )
    article = load_one(path)
    assert article.title == "Maps & apps"
    assert article.excerpt == "we\u2019re here &amp; there now"


def test_url_falls_back_to_original_url(write_article: Callable[..., Path]) -> None:
    path = write_article("v.md", url=None, extra='originalUrl: "https://youtube.com/watch?v=x"')
    assert load_one(path).url == "https://youtube.com/watch?v=x"


def test_naive_dates_are_utc_and_offsets_are_converted(write_article: Callable[..., Path]) -> None:
    naive = load_one(write_article("n.md", date="2024-05-01 10:00:00"))
    offset = load_one(write_article("o.md", date="2024-05-01T12:00:00+02:00"))
    words = load_one(write_article("w.md", date='"1 May 2024 10:00"'))
    assert naive.published == offset.published == words.published
    assert naive.published.tzinfo is UTC


def test_draft_flag(write_article: Callable[..., Path]) -> None:
    assert load_one(write_article("d.md", published=False)).draft
    assert not load_one(write_article("p.md", published=None)).draft


def test_a_string_topic_means_a_list_of_one(write_article: Callable[..., Path]) -> None:
    path = write_article("t.md", extra="")
    text = path.read_text().replace('topics:\n  - "Testing"', "topics: AI")
    path.write_text(text)
    assert load_one(path).topics == ("AI",)


def test_a_file_without_a_dated_name_takes_its_key_from_the_date(
    write_article: Callable[..., Path],
) -> None:
    assert load_one(write_article("plain name.md")).key == "2024-05-01:plain%20name"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("no front matter\n", 1, "no front matter"),
        ("---\ntitle: x\n", 1, "front matter is not closed"),
        ("---\ntitle: [unclosed\nwebUrl: x\n---\n", 3, "YAML error"),
        ("---\n- a\n- b\n---\n", 2, "front matter must be a mapping"),
        ("---\n---\n", 2, "front matter is empty"),
    ],
)
def test_broken_files_are_rejected_with_path_and_line(
    write_article: Callable[..., Path], text: str, line: int, message: str
) -> None:
    rejection = reject_one(write_article("bad.md", text=text))
    assert rejection.path == "bad.md"
    assert rejection.line == line
    assert message in rejection.reason


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"date": "2024-13-01T00:00:00Z"}, "publishedDateTime", "publishedDateTime is not a date"),
        ({"date": "yesterday"}, "publishedDateTime", "publishedDateTime is not a date"),
        ({"url": "javascript:alert(1)"}, "webUrl", "webUrl is not an http(s) URL"),
        ({"quality": "high"}, "quality", "quality must be a number"),
        ({"title": ""}, "title", "title is empty"),
    ],
)
def test_bad_fields_name_their_line(
    write_article: Callable[..., Path], fields: dict[str, object], key: str, message: str
) -> None:
    path = write_article("bad.md", **fields)
    rejection = reject_one(path)
    expected_line = next(
        i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(key + ":")
    )
    assert rejection.line == expected_line
    assert message in rejection.reason
    assert str(rejection).startswith(f"bad.md:{expected_line}: ")


def test_missing_url_and_date_are_rejected(write_article: Callable[..., Path]) -> None:
    assert "no usable URL" in reject_one(write_article("u.md", url=None)).reason
    text = article_text().replace("publishedDateTime: 2024-05-01T10:00:00Z\n", "")
    assert "publishedDateTime is missing" in reject_one(write_article("d.md", text=text)).reason


def test_a_list_where_a_title_belongs_is_rejected(write_article: Callable[..., Path]) -> None:
    text = article_text().replace('title: "A story"', "title:\n  - a\n  - b")
    rejection = reject_one(write_article("l.md", text=text))
    assert rejection.reason == "title must be text, got a list"
    assert rejection.line == 3


def test_one_bad_file_never_costs_the_others(
    write_article: Callable[..., Path], site: Path
) -> None:
    write_article("2024-01-01-good.md", title="Good one", url="https://a.example/1")
    write_article("2024-01-02-bad.md", text="---\ntitle: [\n---\n")
    write_article("2024-01-03-good.md", title="Good two", url="https://a.example/2")
    result = load_sources([site], 1 << 20)
    assert sorted(a.title for a in result.articles) == ["Good one", "Good two"]
    assert [Path(r.path).name for r in result.rejections] == ["2024-01-02-bad.md"]
    assert result.files_read == 3


def test_taxonomy_files_are_read_from_a_site_root(
    write_article: Callable[..., Path], site: Path
) -> None:
    write_article("2024-01-01-a.md")
    (site / "_data" / "topics").mkdir(parents=True)
    (site / "_data" / "topics" / "00-ai.yaml").write_text(
        "taxonomy: topic\n_id: artificial-intelligence\nname: AI\nkeywords:\n  - ai\n"
    )
    (site / "_data" / "organizations").mkdir(parents=True)
    (site / "_data" / "organizations" / "example.com.md").write_text(
        "---\n_id: example.com\nname: Example Org\ndomain: example.com\n---\n"
    )
    result = load_sources([site], 1 << 20)
    assert [(t.slug, t.name) for t in result.topics] == [("artificial-intelligence", "AI")]
    assert [(p.name, p.domain) for p in result.providers] == [("Example Org", "example.com")]


def test_a_missing_source_folder_is_fatal(tmp_path: Path) -> None:
    from feedpub.errors import SourceError

    with pytest.raises(SourceError, match="source folder does not exist"):
        load_sources([tmp_path / "nope"], 1 << 20)


def test_a_file_longer_than_its_stat_size_is_read_whole_or_refused() -> None:
    # /proc files stat as empty and read as text: what stat promised is not the end.
    version = Path("/proc/version")
    if not version.is_file():
        pytest.skip("no /proc/version here")
    assert read_bytes(version, "version", 1 << 20) == version.read_bytes()
    with pytest.raises(SourceError, match="grew over the limit of 10 bytes"):
        read_bytes(version, "version", 10)


_names = st.text(
    st.characters(exclude_characters="/.\x00\n", exclude_categories=("Cs",)),
    min_size=1,
    max_size=20,
)


@given(_names, st.booleans())
def test_an_article_key_quotes_its_name_as_quote_does(name: str, dated: bool) -> None:
    from urllib.parse import quote

    from feedpub.sources.fields import _article_key

    day = "2024-05-01" if dated else "2023-01-02"
    stem = f"{day}-{name}" if dated else name
    key = _article_key(f"/site/{stem}.md", datetime(2023, 1, 2, tzinfo=UTC))
    assert key == f"{day}:{quote(os.fsencode(name), safe='-._~!$()*+,;=:@')}"


def test_loading_leaves_the_cyclic_collector_as_it_found_it(
    write_article: Callable[..., Path],
) -> None:
    import gc

    folder = write_article("2024-05-01-a.md").parent
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            assert len(load_sources([folder], 1 << 20).articles) == 1
            assert gc.isenabled() is state
    finally:
        (gc.enable if was else gc.disable)()
