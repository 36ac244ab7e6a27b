"""A fast path for plain front matter: yaml-rs where it reads as PyYAML does, else nothing.

yaml-rs (a YAML parser in Rust) reads a typical front-matter block about three
times faster than the hardened PyYAML loader (yamlsafe.py), but it follows
YAML 1.2, which reads some text differently from YAML 1.1: ``yes``/``on``
stay text, ``012`` is 12 (not 10), ``0o14`` and ``1e3`` are numbers (text in
1.1), ``\\/`` is an escape. So it is used only where the result cannot
differ, and ``read_plain`` returns None for everything else, which then takes
the PyYAML path (that also words every error with its line):

- before parsing, the text: no tabs, no node starting with an anchor, alias,
  tag, block scalar, flow collection, directive or reserved character, no
  escape PyYAML does not know, no integer written with a leading zero, 0o,
  '+' or '_', not larger than a block the PyYAML path
  parses without its pre-scan;
- after parsing, the value: a mapping whose keys are all text; no float; no
  text (key or value) that a YAML 1.1 plain scalar would read as anything
  but text (``yes``, ``0o14``, ``1e3``, ``<<``, ``~``-less nulls…); every
  integer written as a plain decimal (no sign, no leading zero, no ``_``);
  within the nesting and value limits (beyond them PyYAML says where);
- each top-level key on a line of its own at column 0, in order, so the line
  of every key (for messages) is known without PyYAML's marks.

Anything yaml-rs refuses (duplicate keys included) also takes the PyYAML path.
A differential test holds this to PyYAML on the corpus, the broken and
hostile fixtures and generated documents.

The checks cost more than yaml-rs's parse if each walks the text: most of the
characters they look for are rare in front matter, so one pass in C over the
block's UTF-8 bytes (``rare_bytes``) keeps those, and only the checks for
characters actually present look at the text itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Final

from yaml.nodes import ScalarNode

from .yamlsafe import (
    _RESOLVERS,
    _SCAN_ABOVE_CHARS,
    _SCAN_ABOVE_OPENERS,
    _STR,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    FrontMatterLoader,
    _openers,
)

# Characters that, starting a node, make it something else than plain text, a
# number or a block collection: anchor, alias, tag, block scalar, flow
# collection, directive, complex key, reserved. Where one follows a line's
# indentation (and list dashes) or a ': ', the document goes to PyYAML. Text
# inside quotes can look so too; that only sends the document to PyYAML.
_UNUSUAL: Final = "&*!|>%@`?[{"
# A plain number YAML 1.2 reads as another integer than 1.1 does (or as one where
# 1.1 reads text): a leading zero (octal in 1.1), 0o, a leading '+', an '_'.
_ODD_NUMBER: Final = re.compile(r"(?:\+[0-9]|[-+]?0[0-9oOxXbB_]|-?[1-9][0-9]*_)[0-9a-fA-F_]*")
# The escapes both parsers read alike in double quotes (PyYAML's set but '/').
_ESCAPE: Final = re.compile(r"\\(.)", re.S)
_KNOWN_ESCAPES: Final = frozenset('0abtnvfre "\\N_LPxuU')
# A quoted top-level key at column 0, without escapes.
_KEY_LINE: Final = re.compile(r"""("[^"\\]*"|'[^']*')[ ]*:(?:[ ]|$)""")
# Where a node may start with a number YAML 1.1 reads otherwise: ' 0', ' +', ' -0', ' -+'.
_SIGNED_OR_ZERO: Final = re.compile(r" -?[0+]")

# The bytes ``rare_bytes`` keeps: those the checks look for that are rare in front
# matter (the unusual node starts, tab, backslash, '_'), the openers counted
# against the pre-scan limit, and the bytes that may need normalizing (C0
# controls, DEL, and the lead bytes of C1 controls, LS, PS and U+FFFE/U+FFFF).
_OPENERS: Final = "[{-?:"
_KEPT: Final = frozenset(
    (_UNUSUAL + _OPENERS + "\t\\_").encode() + bytes(range(0x20)) + b"\x7f\xc2\xe2\xef"
) - frozenset(b"\n\r")
_DROPPED: Final = bytes(b for b in range(256) if b not in _KEPT)
_NOT_UNUSUAL: Final = bytes(b for b in range(256) if b not in _UNUSUAL.encode())
# C0 controls but tab, LF and CR, and DEL: ASCII, so each byte is the character.
_SUSPECT_LEADS: Final = (
    bytes(range(0x09)) + bytes(range(0x0B, 0x0D)) + bytes(range(0x0E, 0x20)) + b"\x7f"
)


def rare_bytes(raw: bytes) -> bytes:
    """The bytes of ``raw`` (a block's text as UTF-8) that the checks look for, in one pass.

    Counting ':' and '-' among them, so it is not short, but short enough for
    each later look to cost nothing.
    """
    return raw.translate(None, _DROPPED)


def may_need_normalizing(block: str, raw: bytes, rare: bytes) -> bool:
    """False if ``yamlsafe.normalize_yaml_text`` would return ``block`` as it is.

    ``raw`` is ``block`` as UTF-8 (or any text holding every character of it),
    ``rare`` its ``rare_bytes``. True means "normalize it".
    """
    if "\\" in block and ("\\ud" in block or "\\uD" in block):
        return True  # maybe an escaped surrogate pair
    if rare.translate(None, _SUSPECT_LEADS) != rare:
        return True  # a C0 control (not tab, LF, CR) or DEL
    if b"\xe2" in rare and ("\u2028" in block or "\u2029" in block):
        return True
    if b"\xef" in rare and ("\ufffe" in block or "\uffff" in block):
        return True
    if b"\xc2" in rare:  # U+0080 to U+009F (C1 controls) are 0xc2 0x80 to 0xc2 0x9f
        at = raw.find(b"\xc2")
        while at >= 0:
            if b"\x80" <= raw[at + 1 : at + 2] <= b"\x9f":
                return True
            at = raw.find(b"\xc2", at + 2)
    return False


def read_plain(
    block: str, rare: bytes | None = None, first_line: int = 0
) -> tuple[dict[str, object], Mapping[str, int]] | None:
    """The mapping of a plain front-matter block and the line of each key, or None.

    None means "read it with PyYAML": the block may read differently there,
    or is malformed, or is not a plain mapping. ``block`` is already
    normalized (``yamlsafe.normalize_yaml_text``); ``rare`` is its
    ``rare_bytes`` if the caller has them. Lines count from ``first_line``
    (the block's own first line is 0 by default).
    """
    if rare is None:
        rare = rare_bytes(block.encode("utf-8", "surrogatepass"))
    if not _plain_text(block, rare):
        return None
    # Imported here: it costs ~6 MiB and some milliseconds, and a build that
    # finds nothing changed parses nothing.
    import yaml_rs

    try:
        data = yaml_rs.loads(block, parse_datetime=False)
    except (yaml_rs.YAMLDecodeError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    if data.__class__ is not dict or not data or not _same_in_yaml_11(data):
        return None
    layout = _key_layout(tuple(data))
    if layout is not None and layout.fullmatch(block) is not None:
        return data, KeyLines(block, data, first_line)  # counted if a message needs them
    lines = _key_lines(block, data)
    if lines is None:
        return None
    return data, KeyLines(block, data, first_line, lines)


class KeyLines(Mapping[str, int]):
    """The line of each top-level key, counted when first asked for.

    Only a message about a field needs a line, so most files never count them.
    ``read_plain`` makes one only for a block whose every top-level key sits
    alone at column 0, in order (what ``_key_lines`` checks), so counting
    cannot fail.
    """

    __slots__ = ("_block", "_data", "_first", "_lines")

    def __init__(
        self,
        block: str,
        data: dict[str, object],
        first_line: int,
        lines: dict[str, int] | None = None,
    ) -> None:
        self._block = block
        self._data = data
        self._first = first_line
        self._lines = lines

    def _counted(self) -> dict[str, int]:
        if self._lines is None:
            lines = _key_lines(self._block, self._data)
            assert lines is not None, "the key layout matched, so every key has its line"
            self._lines = lines
        return self._lines

    def __getitem__(self, key: str) -> int:
        return self._first + self._counted()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counted())

    def __len__(self) -> int:
        return len(self._data)


# A line _key_lines passes over: blank, indented, a comment, a list item at column 0.
_OTHER_LINE: Final = r"(?:[ #\r].*|-(?: .*|\r*)|)"


@functools.lru_cache(maxsize=64)
def _key_layout(keys: tuple[object, ...]) -> re.Pattern[str] | None:
    """A pattern for a block whose lines are ``keys``, in order, each at column 0 as
    ``key: value`` or ``key:``, with only lines _key_lines passes over around them.

    _key_lines reads such a block's lines as these keys, in this order, so its
    lines need not be counted now. None if a key could read otherwise on its
    line. Cached: the files of a site mostly share their keys and their order.
    """
    names = [key for key in keys if isinstance(key, str) and _is_usual_key(key)]
    if len(names) != len(keys):
        return None
    between = rf"\n(?:{_OTHER_LINE}\n)*"
    lines = between.join(re.escape(name) + r":(?: .*|\r*)" for name in names)
    return re.compile(rf"(?:{_OTHER_LINE}\n)*{lines}(?:\n{_OTHER_LINE})*")


def _is_usual_key(key: str) -> bool:
    """Whether a line ``key: …`` at column 0 is one _key_lines reads as this key."""
    return _is_plain_key(key) and key[0] not in " #\r" and "\n" not in key and "\r" not in key


def _plain_text(block: str, rare: bytes) -> bool:
    """The checks on the text; ``rare`` rules out at once the characters it lacks."""
    if len(block) > _SCAN_ABOVE_CHARS or (b"\t" in rare and "\t" in block):
        return False
    if "\r" in block and "\r" in block.replace("\r\n", ""):
        return False  # a CR alone ends a line for PyYAML, not for these checks (nor yaml-rs)
    if b"\xef" in rare and "\ufeff" in block:
        return False  # a byte order mark: PyYAML skips one or refuses it, yaml-rs reads it as text
    # rare holds every opener the block does: fewer than the limit there, fewer in the block.
    if len(rare) > _SCAN_ABOVE_OPENERS and _openers(block) > _SCAN_ABOVE_OPENERS:
        return False
    # The unusual characters present, in one pass over rare (most blocks have none).
    for char in frozenset(rare.translate(None, _NOT_UNUSUAL).decode()):
        at = block.find(char)  # str.find runs in C: far cheaper than a regex over the block
        while at >= 0:
            if _starts_node(block, at):
                return False
            at = block.find(char, at + 1)
    if _has_odd_number(block, b"_" in rare):
        return False
    return b"\\" not in rare or all(
        match.group(1) in _KNOWN_ESCAPES for match in _ESCAPE.finditer(block)
    )


def _starts_node(block: str, at: int) -> bool:
    """Whether ``block[at]`` may start a node: after a ':' or a line's indentation and dashes,
    unless a double-quoted value opened on its line is still open there."""
    line = block[block.rfind("\n", 0, at) + 1 : at]
    before = line.rstrip(" ")
    if not before.lstrip(" -"):
        return True
    return before.endswith((":", ",")) and not _in_quoted_value(line)


# A line's start up to where a double-quoted scalar opens as a plain key's value or a list item.
_QUOTED_VALUE: Final = re.compile(r'[ ]*(?:-[ ]+)*(?:[A-Za-z_][A-Za-z0-9_]*:[ ]+)?"')


def _in_quoted_value(line: str) -> bool:
    """Whether the end of ``line`` is inside a double-quoted scalar opened on it as a value.

    Text like ``excerpt: "Recap: &#8220;New&#8221;"`` is common; a ': &' inside the
    quotes starts no node. The scalar is still open if no quote after the opening
    one closes it: escapes are read left to right, so dropping each escaped
    backslash, then each escaped quote, leaves only closing quotes.
    """
    opening = _QUOTED_VALUE.match(line)
    if opening is None:
        return False
    text = line[opening.end() :].replace("\\\\", "").replace('\\"', "")
    return '"' not in text


def _has_odd_number(block: str, underscore: bool = True) -> bool:
    """Whether a node of ``block`` is an integer written so that YAML 1.1 and 1.2 may differ.

    Such a node starts with '0' or '+' (after a space: a value or a list item)
    or holds a '_' after a digit; only those places are looked at closely
    (the '_' only if ``underscore``: the block may hold one).
    """
    for match in _SIGNED_OR_ZERO.finditer(block):  # ' 0', ' +', ' -0', ' -+'
        if _odd_number_at(block, match.start() + 1):
            return True
    at = block.find("_") if underscore else -1
    while at >= 0:
        if at and block[at - 1].isdigit():
            start = max(block.rfind(" ", 0, at), block.rfind("\n", 0, at)) + 1
            if _odd_number_at(block, start):
                return True
        at = block.find("_", at + 1)
    return False


def _odd_number_at(block: str, at: int) -> bool:
    if not _starts_node(block, at):
        return False
    end = block.find("\n", at)
    token = block[at : end if end >= 0 else len(block)].split(" #")[0].rstrip(" \r")
    return _ODD_NUMBER.fullmatch(token) is not None


# The first characters of every implicit type but text (digits, signs, y/n/t/f/o,
# '~', '.', '<', '=', the empty string…).
_RESOLVED_FIRST: Final = frozenset(_RESOLVERS)
# yamlsafe builds plain decimals of up to 18 digits itself (its _DECIMAL).
_DECIMAL_LIMIT: Final = 10**18
_LOADER: Final = FrontMatterLoader("")  # only its resolve(), which keeps no state
# YAML 1.1's implicit types; those longer than 5 characters are integers and floats
# (0b…, 0…, 0x…, sexagesimal 1:20, 1_000.5e+3), written with these characters only
# ('\n': PyYAML's patterns end in '$', which also matches before a final newline).
_IMPLICIT_TYPES: Final = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("bool", "float", "int", "merge", "null", "value", "yaml")
)
_NUMBER_CHARS: Final = "0123456789abcdefABCDEF_:.+-x\n"
assert {tag for candidates in _RESOLVERS.values() for tag, _ in candidates} <= _IMPLICIT_TYPES


def _text_is_text(text: str) -> bool:
    """Whether YAML 1.1 reads ``text``, written as a plain scalar, as text too."""
    first = text[:1]
    if first not in _RESOLVED_FIRST or (len(text) > 5 and first.isalpha()):
        # No implicit type starts so; those that start with a letter (yes, no,
        # on, off, true, false, null, and their capitals) are at most 5 long.
        return True
    if len(text) > 16:  # a date, an id: seldom seen twice, each would only evict a cached one
        # Only an integer or a float is this long, and neither holds a character
        # but these (a date's 'T' or 'Z' tells at once).
        return bool(text.strip(_NUMBER_CHARS)) or _resolves_as(text) == _STR
    return _resolves_to_text(text)


def _resolves_as(text: str) -> str:
    return _LOADER.resolve(ScalarNode, text, (True, False))


@functools.lru_cache(maxsize=1024)
def _resolves_to_text(text: str) -> bool:
    # Cached: the same few keys (title, type, name…) and values (news) come back
    # in every file; a pure function of the text.
    return _resolves_as(text) == _STR


def _same_in_yaml_11(data: dict[str, object]) -> bool:
    """Whether PyYAML would build the same value (see the module docstring)."""
    return _budget_left(data, 0, MAX_YAML_NODES - 1) >= 0


def _budget_left(value: object, depth: int, budget: int) -> int:
    """The node budget left once ``value`` (at ``depth``) is spent, or -1 if PyYAML decides.

    -1 also for a value over the budget or the nesting limit. The scalars of a
    collection are checked in its loop: a call for each would cost more than
    the check.
    """
    kind = value.__class__
    if kind is str:
        return budget if _text_is_text(value) else -1  # type: ignore[arg-type]
    if kind is dict:
        items: object = value.values()  # type: ignore[attr-defined]
        if depth >= MAX_YAML_DEPTH:
            return -1
        budget -= 2 * len(value)  # type: ignore[arg-type]
        if not _keys_are_text(tuple(value)):  # type: ignore[arg-type]
            return -1
    elif kind is list:
        items = value
        if depth >= MAX_YAML_DEPTH:
            return -1
        budget -= len(value)  # type: ignore[arg-type]
    elif value is None or kind is bool:
        return budget  # null, Null, NULL, ~, true, True, TRUE, false…: the same in both
    elif kind is int:
        # Longer than yamlsafe builds directly: PyYAML decides.
        return budget if -_DECIMAL_LIMIT < value < _DECIMAL_LIMIT else -1  # type: ignore[operator]
    else:
        return -1  # floats and anything else: PyYAML decides
    if budget < 0:
        return -1
    for item in items:  # type: ignore[attr-defined]
        kind = item.__class__
        if kind is str:
            if item[:1] in _RESOLVED_FIRST and not _text_is_text(item):
                return -1
        elif kind is int:
            if not -_DECIMAL_LIMIT < item < _DECIMAL_LIMIT:
                return -1
        elif item is not None and kind is not bool:
            budget = _budget_left(item, depth + 1, budget)
            if budget < 0:
                return -1
    return budget


@functools.lru_cache(maxsize=256)
def _keys_are_text(keys: tuple[object, ...]) -> bool:
    """Whether every key is text that YAML 1.1 reads as text. Cached: the mappings
    of a site's files (the front matter, a provider, an image) repeat their keys."""
    return all(key.__class__ is str and _text_is_text(key) for key in keys)


def _key_lines(block: str, data: dict[str, object]) -> dict[str, int] | None:
    """The 0-based line of each top-level key, if each sits alone at column 0, in order."""
    keys = iter(data)
    lines: dict[str, int] = {}
    number = -1
    for line in block.split("\n"):
        number += 1
        first = line[:1]
        if first in _NOT_A_KEY and (first != "-" or line[1:2] == " " or line.rstrip("\r") == "-"):
            continue  # blank, indented, a comment, or an item of a list at column 0
        key = next(keys, None)
        if key is None:
            return None
        size = len(key)
        # The usual line, 'key: value' or 'key:', is the key's without _key_of's work.
        usual = line.startswith(key) and line[size : size + 2] in _PLAIN_KEY_ENDS
        if not (usual and _is_plain_key(key)) and _key_of(line.rstrip("\r")) != key:
            return None
        lines[key] = number
    if next(keys, None) is not None:
        return None
    return lines


_PLAIN_KEY_ENDS: Final = frozenset((": ", ":"))


def _is_plain_key(key: str) -> bool:
    """Whether ``_key_of`` reads a line ``key: …`` as this key: it has no character
    that would make the line something else or end the key early."""
    return (
        key[:1] not in ("", "-", "'", '"') and ":" not in key and "#" not in key and key[-1] != " "
    )


_NOT_A_KEY: Final = frozenset(("", " ", "#", "\r", "-"))


def _key_of(line: str) -> str | None:
    """The key a ``key: value`` line at column 0 names: plain, or quoted without escapes."""
    if line[0] in "'\"":
        match = _KEY_LINE.match(line)
        return None if match is None else match.group(1)[1:-1]
    colon = line.find(":")
    if colon <= 0 or line[colon + 1 : colon + 2] not in ("", " ") or "#" in line[:colon]:
        return None
    if line[0] == "-":
        return None  # '-x: 1' is a key, but a rare one: PyYAML marks it
    return line[:colon].rstrip(" ")
