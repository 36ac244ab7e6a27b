"""The README and docs/: every page reachable, every link and anchor real, a quick start."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
PAGES = sorted((REPO / "docs").glob("*.md"))
# [text](target) and ![alt](target); a target ends at white space or the closing parenthesis.
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
# A code span opens and closes with runs of backticks of one length (`` ` `` holds one).
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")


def prose(text: str) -> str:
    """The Markdown without fenced blocks and code spans: links there are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text(encoding="utf-8")))


def relative_links(path: Path) -> list[str]:
    return [t for t in links(path) if not urlsplit(t).scheme and not t.startswith("//")]


def anchors(path: Path) -> set[str]:
    """The fragment ids GitHub gives the headings of a Markdown file."""
    seen: dict[str, int] = {}
    ids = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1))
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


def test_the_docs_folder_has_pages() -> None:
    names = {p.name for p in PAGES}
    assert {"configuration.md", "output.md", "input.md", "deployment.md"} <= names
    assert {"benchmarks.md", "link-checking.md", "layout.md", "api.md", "serve.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_docs_page_is_linked_from_the_readme(page: Path) -> None:
    targets = {urlsplit(t).path for t in relative_links(README)}
    assert f"docs/{page.name}" in targets


@pytest.mark.parametrize("document", [README, *PAGES], ids=lambda p: p.name)
def test_every_relative_link_resolves(document: Path) -> None:
    found = relative_links(document)
    assert found or document != README  # the README links to its pages
    for target in found:
        parts = urlsplit(target)
        file = (document.parent / unquote(parts.path)).resolve() if parts.path else document
        assert file.is_relative_to(REPO), f"{document.name}: {target} leaves the repository"
        assert file.exists(), f"{document.name}: {target} names no file"
        if parts.fragment and file.suffix == ".md":
            assert parts.fragment in anchors(file), f"{document.name}: {target}: no such heading"


def test_the_readme_takes_a_newcomer_to_a_preview_in_40_lines() -> None:
    top = "\n".join(README.read_text(encoding="utf-8").splitlines()[:40])
    for command in ("pip install .", "feedpub init ", "feedpub serve --watch", "feedpub build"):
        assert command in top, command
    assert re.search(r"^[\d*/,-]+( [\d*/,-]+){4} .*feedpub build", top, re.M), "a crontab line"
    # The commands .ci/run runs, word for word, as the README gives them.
    assert "pip install . && feedpub build" in top
    assert "pip install -e '.[test]' && python -m pytest" in top
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "\npip install -e '.[test]' && python -m pytest\n" in ci


def test_the_readme_shows_the_landing_page() -> None:
    [image] = [t for t in relative_links(README) if t.endswith(".png")]
    png = (REPO / image).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 300_000


def test_the_license_is_the_one_pyproject_names() -> None:
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    assert "Copyright (c) 2026 the feedpub authors" in license_text
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"  # an SPDX expression (PEP 639)


def test_the_link_checker_finds_a_broken_link(tmp_path: Path) -> None:
    """The checks above can fail: a page with a bad link and a bad anchor is caught."""
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n", encoding="utf-8")
    page.write_text(
        "[ok](other.md#a-section) [gone](missing.md) [bad](other.md#nowhere)\n"
        "`[code](not-a-link.md)`\n",
        encoding="utf-8",
    )
    found = relative_links(page)
    assert found == ["other.md#a-section", "missing.md", "other.md#nowhere"]
    assert "a-section" in anchors(tmp_path / "other.md")
    assert "nowhere" not in anchors(tmp_path / "other.md")
    assert not (tmp_path / "missing.md").exists()
