from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.linkserver import LinkServer

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
BASE_URL = "https://news.example.org/feeds/"


def article_text(
    *,
    title: str = "A story",
    url: str | None = "https://news.example.com/a-story",
    date: str = "2024-05-01T10:00:00Z",
    quality: int | str = 50,
    published: bool | None = True,
    provider: str | None = "Example News",
    domain: str | None = "example.com",
    topics: list[str] | None = None,
    excerpt: str = "An excerpt.",
    extra: str = "",
) -> str:
    """A minimal article file in the Smartable format."""
    lines = ["---", "category: news", f"title: {_q(title)}", f"excerpt: {_q(excerpt)}"]
    lines.append(f"publishedDateTime: {date}")
    if url is not None:
        lines.append(f"webUrl: {_q(url)}")
    lines.append("type: article")
    lines.append(f"quality: {quality}")
    if published is not None:
        lines.append(f"published: {str(published).lower()}")
    if provider is not None:
        lines += ["provider:", f"  name: {_q(provider)}"]
        if domain is not None:
            lines.append(f"  domain: {domain}")
    lines.append("topics:")
    for topic in topics if topics is not None else ["Testing"]:
        lines.append(f"  - {_q(topic)}")
    if extra:
        lines.append(extra.rstrip("\n"))
    lines.append("---")
    return "\n".join(lines) + "\n"


def _q(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@pytest.fixture
def write_article(tmp_path: Path) -> Callable[..., Path]:
    """Write an article file into tmp_path/site/_news and return its path."""
    news = tmp_path / "site" / "_news"
    news.mkdir(parents=True, exist_ok=True)

    def write(name: str, text: str | None = None, **fields: object) -> Path:
        path = news / name
        content = text if text is not None else article_text(**fields)  # type: ignore[arg-type]
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def corpus() -> Path:
    path = CORPUS / "powerapps"
    if not (path / "_news").is_dir():
        pytest.skip("the shared corpus (../shared/corpus/powerapps) is not here")
    return path


@pytest.fixture
def link_server() -> Iterator[LinkServer]:
    """A real HTTP server on 127.0.0.1 (see tests/linkserver.py), stopped after the test."""
    with LinkServer() as server:
        yield server
