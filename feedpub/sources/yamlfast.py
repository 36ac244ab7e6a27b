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
"""

from __future__ import annotations

import re
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


def read_plain(block: str) -> tuple[dict[str, object], dict[str, int]] | None:
    """The mapping of a plain front-matter block and each key's 0-based line, or None.

    None means "read it with PyYAML": the block may read differently there,
    or is malformed, or is not a plain mapping. ``block`` is already
    normalized (``yamlsafe.normalize_yaml_text``).
    """
    if not _plain_text(block):
        return None
    # Imported here: it costs ~6 MiB and some milliseconds, and a build that
    # finds nothing changed parses nothing.
    import yaml_rs

    try:
        data = yaml_rs.loads(block, parse_datetime=False)
    except (yaml_rs.YAMLDecodeError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    if not isinstance(data, dict) or not data or not _same_in_yaml_11(data):
        return None
    lines = _key_lines(block, data)
    if lines is None:
        return None
    return data, lines


def _plain_text(block: str) -> bool:
    if len(block) > _SCAN_ABOVE_CHARS or "\t" in block or _openers(block) > _SCAN_ABOVE_OPENERS:
        return False
    for char in _UNUSUAL:  # str.find runs in C: far cheaper than a regex over the block
        at = block.find(char)
        while at >= 0:
            if _starts_node(block, at):
                return False
            at = block.find(char, at + 1)
    if _has_odd_number(block):
        return False
    return "\\" not in block or all(
        match.group(1) in _KNOWN_ESCAPES for match in _ESCAPE.finditer(block)
    )


def _starts_node(block: str, at: int) -> bool:
    """Whether ``block[at]`` may start a node: after a ':' or a line's indentation and dashes."""
    before = block[block.rfind("\n", 0, at) + 1 : at].rstrip(" ")
    return before.endswith((":", ",")) or not before.lstrip(" -")


def _has_odd_number(block: str) -> bool:
    """Whether a node of ``block`` is an integer written so that YAML 1.1 and 1.2 may differ.

    Such a node starts with '0' or '+' (after a space: a value or a list item)
    or holds a '_' after a digit; only those places are looked at closely.
    """
    for needle in (" 0", " +", " -0", " -+"):
        at = block.find(needle)
        while at >= 0:
            if _odd_number_at(block, at + 1):
                return True
            at = block.find(needle, at + 1)
    at = block.find("_")
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


def _text_is_text(text: str) -> bool:
    """Whether YAML 1.1 reads ``text``, written as a plain scalar, as text too."""
    first = text[:1]
    if first not in _RESOLVED_FIRST or (len(text) > 5 and first.isalpha()):
        # No implicit type starts so; those that start with a letter (yes, no,
        # on, off, true, false, null, and their capitals) are at most 5 long.
        return True
    return _LOADER.resolve(ScalarNode, text, (True, False)) == _STR


def _same_in_yaml_11(data: object) -> bool:
    """Whether PyYAML would build the same value (see the module docstring)."""
    budget = MAX_YAML_NODES - 1
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if value.__class__ is str:
            if not _text_is_text(value):
                return False
        elif isinstance(value, dict):
            budget -= 2 * len(value)
            if depth + 1 > MAX_YAML_DEPTH:
                return False
            for key, item in value.items():
                if not isinstance(key, str) or not _text_is_text(key):
                    return False
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            budget -= len(value)
            if depth + 1 > MAX_YAML_DEPTH:
                return False
            stack.extend((item, depth + 1) for item in value)
        elif value is None or isinstance(value, bool):
            pass  # null, Null, NULL, ~, true, True, TRUE, false…: the same in both
        elif isinstance(value, int):
            if not -_DECIMAL_LIMIT < value < _DECIMAL_LIMIT:
                return False  # longer than yamlsafe builds directly: PyYAML decides
        else:
            return False  # floats and anything else: PyYAML decides
        if budget < 0:
            return False
    return True


def _key_lines(block: str, data: dict[str, object]) -> dict[str, int] | None:
    """The 0-based line of each top-level key, if each sits alone at column 0, in order."""
    keys = iter(data)
    lines: dict[str, int] = {}
    for number, line in enumerate(block.split("\n")):
        first = line[:1]
        if first in _NOT_A_KEY and (first != "-" or line.rstrip("\r") == "-" or line[1:2] == " "):
            continue  # blank, indented, a comment, or an item of a list at column 0
        key = _key_of(line.rstrip("\r"))
        if key is None or next(keys, None) != key:
            return None
        lines[key] = number
    if next(keys, None) is not None:
        return None
    return lines


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
