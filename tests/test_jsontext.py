"""dumps_indented writes the same text as json.dumps(indent=2, ensure_ascii=False),
the call JSON Feeds were written with before it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.config import Config
from feedpub.group import group_articles
from feedpub.model import (
    Article,
    ArticleKind,
    Feed,
    FeedKind,
    Image,
    LinkState,
    Provider,
    Related,
)
from feedpub.render.jsonfeed import JsonFeedRenderer
from feedpub.render.jsontext import dumps_indented
from feedpub.render.site import render_context
from feedpub.sources.loader import load_sources
from tests.conftest import BASE_URL, CORPUS

# Every code point, lone surrogates and controls included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()  # NaN and the infinities too
    | ANY_TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(ANY_TEXT, children, max_size=4)
    ),
    max_leaves=30,
)


def json_dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


@given(VALUES)
def test_any_json_value_is_written_as_json_dumps_writes_it(value: object) -> None:
    assert dumps_indented(value) == json_dumps(value)


def test_subclasses_of_str_and_int_are_written_as_json_writes_them() -> None:
    value = {"kind": ArticleKind.VIDEO, "state": LinkState.DEAD, "feed": FeedKind.TOP, "n": True}
    assert dumps_indented(value) == json_dumps(value)


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {None: 1}}, [object()], {"a": {1, 2}}])
def test_what_json_feeds_never_hold_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        dumps_indented(value)


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)  # UTF-8 can carry it


@st.composite
def stories(draw: st.DrawFn) -> list[Article]:
    made = []
    base = datetime(2024, 5, 1, tzinfo=UTC)
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        related = draw(
            st.lists(
                st.builds(
                    Related,
                    title=TEXT,
                    url=TEXT,
                    provider=st.none() | TEXT,
                    published=st.none() | st.just(base),
                ),
                max_size=3,
            )
        )
        made.append(
            Article(
                key=f"2024-05-01:story-{i}",
                path=f"2024-05-01-story-{i}.md",
                title=draw(TEXT) or "Story",
                url=f"https://news.example.com/{i}",
                published=base + timedelta(hours=i),
                quality=draw(st.integers(-5, 200)),
                heat=draw(st.integers(-5, 200)),
                kind=draw(st.sampled_from(ArticleKind)),
                provider=draw(st.none() | st.builds(Provider, name=TEXT, domain=TEXT)),
                topics=tuple(draw(st.lists(TEXT.filter(bool), max_size=3, unique=True))),
                excerpt=draw(TEXT),
                images=tuple(draw(st.lists(st.builds(Image, url=TEXT), max_size=2))),
                related=tuple(related),
                link_state=draw(st.none() | st.sampled_from(LinkState)),
                modified=draw(st.none() | st.just(base + timedelta(days=1))),
            )
        )
    return made


@given(stories(), st.lists(st.integers(1, 9), max_size=3))
def test_a_generated_json_feed_is_what_json_dumps_writes(
    found: list[Article], ranks: list[int]
) -> None:
    feed = Feed(FeedKind.TOP, "top", "top", "Top — News", "", tuple(found), ranks=tuple(ranks))
    ctx = render_context(Config(base_url=BASE_URL))
    text = JsonFeedRenderer().render(feed, ctx).decode("utf-8")
    assert text == json_dumps(json.loads(text)) + "\n"


def test_every_json_feed_of_the_real_corpus_is_what_json_dumps_writes() -> None:
    corpus = CORPUS / "powerapps"
    if not corpus.is_dir():
        pytest.skip("the shared corpus (../shared/corpus/powerapps) is not here")
    config = Config(sources=(corpus,), out=Path("unused"), base_url=BASE_URL)
    loaded = load_sources(config.sources, config.max_file_bytes)
    selection = group_articles(loaded, config, datetime(2026, 11, 27, tzinfo=UTC))
    ctx = render_context(config)
    feeds: list[Feed[Article]] = [f for f in selection.feeds]  # type: ignore[misc]
    assert feeds
    for feed in feeds:
        text = JsonFeedRenderer().render(feed, ctx).decode("utf-8")
        assert text == json_dumps(json.loads(text)) + "\n", feed.folder
