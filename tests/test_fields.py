"""The fields' fast paths give what the general path gives: the same value, notes and errors."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from feedpub.errors import SourceError
from feedpub.sources.fields import (
    _any_provider,
    _any_topics,
    _Fields,
    _provider,
    _topic_name,
    _topics,
    _usual_provider,
)
from feedpub.sources.frontmatter import FrontMatter

_LONG_NAMES = ["N" * 250, " " * 199 + "N"]  # longer than a name is kept: never cached
_names = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["Microsoft", " Microsoft ", "a &amp; b", "", " ", "x\x00y", "WWW.News.Example.", "..", "É"]
    ),
    st.sampled_from(_LONG_NAMES),
)
_urls = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "https://logos.example/m.png",
            " https://logos.example/m.png ",
            "https://logos.example/a b.png",
            "ftp://logos.example/m.png",
            "javascript:alert(1)",
            "",
        ]
    ),
)
_scalars = st.one_of(_names, st.none(), st.integers(-3, 3), st.booleans(), st.floats(0, 2))
_logos = st.one_of(
    st.fixed_dictionaries({"url": _urls}, optional={"width": _scalars}),
    st.fixed_dictionaries({}, optional={"src": _urls}),
    _scalars,
)
_usual_providers = st.fixed_dictionaries(
    {"name": _names, "domain": _names},
    optional={"images": st.lists(st.fixed_dictionaries({"url": _urls}), min_size=1, max_size=1)},
)
_providers = st.one_of(
    _usual_providers,
    st.fixed_dictionaries(
        {},
        optional={
            "name": _scalars,
            "domain": _scalars,
            "images": st.one_of(_scalars, st.lists(_logos, max_size=3)),
        },
    ),
    _scalars,
    st.lists(_names, max_size=2),
)
_article_urls = st.sampled_from(["https://www.news.example/a", "https://news.example/", "x"])


def _outcome(
    read: Callable[[_Fields, list[str]], object], key: str, value: object
) -> tuple[object, list[str]]:
    """What a path gives for ``value`` under ``key``: its value or error, and its notes."""
    fields = _Fields(FrontMatter({key: value}, {key: 7}), "a.md")
    notes: list[str] = []
    try:
        return read(fields, notes), notes
    except SourceError as e:
        return f"error: {e}", notes


@given(_providers, _article_urls)
def test_the_usual_provider_is_made_as_the_general_path_makes_it(value: object, url: str) -> None:
    fast = _outcome(lambda f, notes: _provider(f, value, url, notes), "provider", value)
    general = _outcome(lambda f, notes: _any_provider(f, value, url, notes), "provider", value)
    assert fast == general


_topic_items = st.one_of(_names, st.integers(-3, 3), st.booleans(), st.none(), st.floats(0, 2))


@given(st.one_of(st.lists(_topic_items, max_size=24), st.lists(_names, max_size=24), _scalars))
def test_usual_topics_are_read_as_the_general_path_reads_them(value: object) -> None:
    fast = _outcome(lambda f, notes: _topics(f, value, notes), "topics", value)
    general = _outcome(lambda f, notes: _any_topics(f, value, notes), "topics", value)
    assert fast == general


@given(st.integers(-(2**53), 2**53))
def test_a_whole_number_is_read_as_the_general_path_reads_its_float(value: int) -> None:
    def number(given: object) -> object:
        return _outcome(lambda f, notes: f.number("quality", given), "quality", given)[0]

    fast, general = number(value), number(float(value))
    assert type(fast) is type(general)  # both the number, or both an error (out of range)
    assert isinstance(fast, str) or fast == general == value


def test_long_names_are_read_without_the_caches() -> None:
    _usual_provider.cache_clear()
    _topic_name.cache_clear()
    provider = {"name": _LONG_NAMES[0], "domain": "news.example"}
    assert _outcome(lambda f, notes: _provider(f, provider, "", notes), "provider", provider)
    assert _outcome(lambda f, notes: _topics(f, _LONG_NAMES, notes), "topics", _LONG_NAMES)
    assert _usual_provider.cache_info().currsize == _topic_name.cache_info().currsize == 0
