"""Text cleaning: its shortcut for text with nothing to clean is exact, in any script."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.text import _CONTROLS, _XML_ILLEGAL, clean_text, strip_xml_illegal


def test_no_printable_character_is_one_cleaning_changes() -> None:
    # clean_text returns printable text as it is (no '&', no double or edge
    # space): that holds only if no printable character is removed by either
    # pattern or folded as white space. Checked for every code point.
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if not char.isprintable():
            continue
        assert _XML_ILLEGAL.match(char) is None, hex(code)
        assert _CONTROLS.match(char) is None, hex(code)
        assert char == " " or not char.isspace(), hex(code)


def _cleaned_the_long_way(value: str) -> str:
    import html

    if "&" in value:
        value = html.unescape(value)
    value = _CONTROLS.sub("", _XML_ILLEGAL.sub("", value))
    return " ".join(value.split())


@given(st.text())
def test_clean_text_is_the_long_way_round(value: str) -> None:
    assert clean_text(value) == _cleaned_the_long_way(value)
    assert strip_xml_illegal(value) == _XML_ILLEGAL.sub("", value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Café naïve résumé", "Café naïve résumé"),  # printable: as it is
        ("東京 • ’quoted’", "東京 • ’quoted’"),
        ("a\u00a0b", "a b"),  # a no-break space is white space: folded
        ("x\u200by", "x\u200by"),  # a format character: kept (it is legal XML)
        ("a\u2028b\x85c", "a b c"),  # line and paragraph separators, NEL: folded
        ("a\x9fb\x01c", "abc"),  # C1 and C0 controls: removed
        ("R&amp;D ", "R&D"),
    ],
)
def test_clean_text_of_non_ascii_text(value: str, expected: str) -> None:
    assert clean_text(value) == expected
