"""The yaml-rs fast path gives PyYAML's data and key lines, or steps aside.

A differential test: for every document (the shared corpus, the broken and
hostile fixtures, generated ones), either ``read_plain`` returns None (the
PyYAML path reads it) or PyYAML's hardened loader reads it without error to
the same data, with every top-level key on the same line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from feedpub.errors import SourceError
from feedpub.sources.frontmatter import _closing_fence, parse_front_matter, split_front_matter
from feedpub.sources.yamlfast import (
    KeyLines,
    _resolves_as,
    _text_is_text,
    may_need_normalizing,
    rare_bytes,
    read_plain,
)
from feedpub.sources.yamlsafe import normalize_yaml_text, read_yaml
from tests.conftest import CORPUS

DATA = Path(__file__).parent / "data"


def agrees(block: str) -> bool:
    """Whether the fast path took ``block``; fails if it read it otherwise than PyYAML."""
    fast = read_plain(normalize_yaml_text(block))
    if fast is None:
        return False
    data, lines = fast
    try:
        document = read_yaml(block, "doc.md", 2)
    except SourceError as e:
        pytest.fail(f"the fast path read a document PyYAML refuses ({e}):\n{block}")
    assert document.data == data, block
    assert {key: line + 2 for key, line in lines.items()} == document.lines, block
    for value, expected in zip(_leaves(data), _leaves(document.data), strict=True):
        assert type(value) is type(expected), block  # 1 == True == 1.0: types must match
    return True


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in (k, *_leaves(v))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def front_matter_blocks(folder: Path) -> list[tuple[Path, str]]:
    blocks = []
    for path in sorted(folder.rglob("*.md")):
        try:
            text = path.read_bytes().decode("utf-8-sig")
            blocks.append((path, split_front_matter(text, path.name)[0]))
        except (UnicodeDecodeError, SourceError):
            continue  # not text, or no front matter: nothing for a YAML parser
    return blocks


def test_every_corpus_file_reads_the_same_and_most_take_the_fast_path() -> None:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus (../shared/corpus) is not here")
    blocks = front_matter_blocks(CORPUS)
    assert len(blocks) > 100
    fast = sum(agrees(block) for _, block in blocks)
    assert fast > len(blocks) * 0.8  # the fast path is the usual one


def test_broken_and_hostile_fixtures_read_the_same_or_take_the_pyyaml_path() -> None:
    blocks = front_matter_blocks(DATA)
    assert len(blocks) > 50
    for _, block in blocks:
        agrees(block)


def test_a_whole_file_reads_the_same_through_either_path(tmp_path: Path) -> None:
    text = '---\ntitle: "A"\nquality: 12\ntopics:\n  - AI\n---\nbody\n'
    matter = parse_front_matter(text, "a.md")
    assert dict(matter.data) == {"title": "A", "quality": 12, "topics": ["AI"]}
    assert dict(matter.lines) == {"title": 2, "quality": 3, "topics": 4}


@pytest.mark.parametrize(
    "block",
    [
        "a: yes\n",  # True in YAML 1.1
        "a: on\n",
        "a: 012\n",  # 10 in YAML 1.1, 12 in 1.2
        "a: 0o14\n",  # text in 1.1
        "a: 0x1f\n",
        "a: +5\n",
        "a: 1_000\n",
        "a: 1:20\n",  # sexagesimal: 80 in 1.1
        "a: 1e3\n",  # text in 1.1
        "a: .inf\n",
        "a: 1.5\n",
        "a: !!str 12\n",
        "a: &x 1\nb: *x\n",
        "<<: {a: 1}\n",
        "a: [1, 2]\n",
        "a: |\n  text\n",
        'a: "x\\/y"\n',  # an escape YAML 1.1 does not know
        "a: 1\na: 2\n",  # a duplicate key: the last wins in PyYAML
        "on: 1\n",  # the key is True in 1.1
        "a: ''\n",  # an empty string reads as text, but so does the null it looks like
        "- a\n- b\n",  # not a mapping
        "a:\tb\n",
        "a: b\n  c: d\n",
    ],
)
def test_what_yaml_11_reads_otherwise_takes_the_pyyaml_path(block: str) -> None:
    assert read_plain(normalize_yaml_text(block)) is None


@pytest.mark.parametrize(
    "block",
    [
        'excerpt: "Recap: &#8220;What is new&#8221;"\n',  # HTML entities after ': '
        'a: "x: *y, !t, |z"\n',
        'topics:\n  - "AI: &x"\n',
        'a: "x\\": &y"\n',  # an escaped quote does not close the scalar
    ],
)
def test_node_marks_inside_double_quotes_keep_the_fast_path(block: str) -> None:
    assert agrees(block)


def test_node_marks_after_a_closing_quote_take_the_pyyaml_path() -> None:
    assert read_plain('a:\n  - "x": &y 1\n') is None  # an anchor after the key "x"


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_scalars = st.one_of(
    _text,
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.sampled_from(["yes", "No", "on", "012", "0o14", "0x1F", "1e3", "1:20", ".inf", "~", "<<"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@given(
    st.dictionaries(_text, _values, min_size=1, max_size=6),
    st.booleans(),
    st.sampled_from([None, 20, 80]),
)
def test_dumped_documents_read_the_same(
    data: dict[str, object], flow: bool, width: int | None
) -> None:
    block = yaml.safe_dump(data, default_flow_style=flow, width=width, allow_unicode=True)
    agrees(block)
    agrees(block.replace("\n", "\r\n"))


_fragments = st.sampled_from(
    [
        "a", "b", "title", "x y", "yes", "on", "~", "null", "True", "012", "0o7", "+1", "-1",
        "0", "7", "1_0", "1:2", "1e3", ".5", "2024-01-01", '"q"', "'s'", '"e\\"x"', '"\\t"',
        '"\\/"', "'it''s'", "#c", " #c", "&a", "*a", "!t", "[", "]", "{", "}", ",", "|", ">",
        "?", "%", "@", "`", '"', "'", "\\", "-", "- ", ":", ": ", "  ", "\t", "\n", "\r\n",
        "\n  ", "\n- ", "\n  - ", "é", "\u2028", "\x85", "\x00",
    ]
)  # fmt: skip


@given(st.lists(_fragments, max_size=40).map("".join))
def test_yaml_like_text_reads_the_same_or_takes_the_pyyaml_path(block: str) -> None:
    agrees(block)


# The screens: each may only send a document the slow way, never change what is read.

_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.M)  # the closing fence, as a regex
_fence_bits = st.sampled_from(
    ["---", "...", "-", ".", "\n", "\r", "\r\n", " ", "\t", "a", "--- x", "....", "é"]
)


@given(st.lists(_fence_bits, max_size=30).map("".join))
def test_the_closing_fence_is_the_first_line_the_fence_pattern_matches(rest: str) -> None:
    text = "---\n" + rest
    found = _FENCE.search(text, 4)
    assert _closing_fence(text, 4) == (found.start() if found else -1)


_suspect_bits = st.sampled_from(
    ["a", " ", "\n", "\t", "\\", "\\ud83d", "\\ude00", "\\uD83D\\uDE00", "\\\\ud83d\\ude00",
     "\x00", "\x1f", "\x7f", "\x80", "\x85", "\x9f", "\xa0", "é", "’", "\u2028", "\u2029",
     "\ufeff", "\ufffe", "\uffff", "😀"]
)  # fmt: skip


@given(st.lists(_suspect_bits, max_size=20).map("".join), st.text(max_size=5))
def test_text_the_screen_passes_needs_no_normalizing(block: str, more: str) -> None:
    for raw in (block.encode(), (more + block + more).encode("utf-8", "surrogatepass")):
        if not may_need_normalizing(block, raw, rare_bytes(raw)):
            assert normalize_yaml_text(block) == block


@given(st.lists(_fragments, max_size=40).map("".join), st.lists(_fragments, max_size=5))
def test_rare_bytes_of_a_whole_file_screen_as_the_block_s_own(block: str, more: list[str]) -> None:
    block = normalize_yaml_text(block)
    around = "".join(more).encode("utf-8", "surrogatepass")
    raw = b"---\n" + block.encode("utf-8", "surrogatepass") + b"\n---\n" + around
    assert read_plain(block, rare_bytes(raw)) == read_plain(block)


def test_key_lines_are_counted_only_when_asked_for() -> None:
    block = 'title: "A"\nprovider:\n  name: B\n# a comment\ntopics:\n- AI\n'
    plain = read_plain(block, first_line=2)
    assert plain is not None
    data, lines = plain
    assert data == {"title": "A", "provider": {"name": "B"}, "topics": ["AI"]}
    assert isinstance(lines, KeyLines) and lines._lines is None  # not counted yet
    assert dict(lines) == {"title": 2, "provider": 3, "topics": 6}
    assert lines.get("provider") == 3 and lines.get("nothing") is None and len(lines) == 3


_digits = st.text("0123456789_", min_size=1, max_size=10)
_numbers = st.one_of(
    st.builds(  # sexagesimal, YAML 1.1's base 60
        lambda digits, parts: "1" + digits + "".join(":" + part for part in parts),
        _digits,
        st.lists(st.sampled_from(["0", "5", "59", "07"]), min_size=1, max_size=8),
    ),
    st.builds(
        lambda sign, whole, fraction, exponent: sign + "1" + whole + "." + fraction + exponent,
        st.sampled_from(["", "+", "-"]),
        _digits,
        _digits,
        st.sampled_from(["", "e+12", "E-3"]),
    ),
    st.builds(lambda digits: "0x" + digits, st.text("0123456789abcdefABCDEF_", min_size=1)),
    st.builds(lambda digits: "-0b" + digits, st.text("01_", min_size=1)),
    st.builds(lambda digits: "1" + digits, _digits),
)


@given(_numbers, st.sampled_from(["", "\n", "T", "Z", " ", "\n\n"]))
def test_long_text_is_screened_as_pyyaml_resolves_it(number: str, end: str) -> None:
    for text in (number + end, "12345678901234567:" + number + end):
        assert _text_is_text(text) == (_resolves_as(text) == "tag:yaml.org,2002:str"), text


@pytest.mark.parametrize(
    "block",
    [
        "a: b\r!t c\n",  # a tag after a lone CR: the start of a line to PyYAML
        '\r\n\r!t- \u2028\r\né\\"`: \\" "#\'\n',
        'a: #,012{"0o7@}1:2*a\r\u2028&#8220;"',
        'a:\n  - ">"\n   #c% #c  0k: "+1\r\r\n\nk: \u2028yes#é012}~&a%@<<',
        'a: \r  #c\\"\nk: ',
    ],
)
def test_a_lone_carriage_return_takes_the_pyyaml_path(block: str) -> None:
    assert read_plain(normalize_yaml_text(block)) is None


@given(st.lists(st.one_of(_fragments, st.just("\r")), max_size=40).map("".join))
def test_yaml_like_text_with_lone_carriage_returns_reads_the_same(block: str) -> None:
    agrees(block)


@pytest.mark.parametrize(
    "block", ["\ufefftitle: A\n", "a: 1\n\ufeffb: 2\n", "\ufeff: yes\n", "a: x\ufeffy\n"]
)
def test_a_byte_order_mark_takes_the_pyyaml_path(block: str) -> None:
    assert read_plain(normalize_yaml_text(block)) is None  # PyYAML skips or refuses it


@given(st.lists(st.one_of(_fragments, st.just("\ufeff")), max_size=40).map("".join))
def test_yaml_like_text_with_byte_order_marks_reads_the_same(block: str) -> None:
    agrees(block)
