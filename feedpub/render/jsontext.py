"""JSON text indented by two spaces, as ``json.dumps(value, ensure_ascii=False, indent=2)``
writes it, in about half the time.

With ``indent`` CPython's ``json`` module leaves its C encoder for a pure-Python
one that yields every token through a chain of generators. Here each string
is still escaped by the C function ``json`` itself uses; only the nesting is
walked in Python, one joined string per container. ``tests/test_jsontext.py``
holds the two to the same text.
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C escaper behind ensure_ascii=False

INDENT = "  "


def dumps_indented(value: object) -> str:
    """``value`` (dicts with string keys, lists, tuples, strings, integers, floats,
    booleans, None; no container inside itself) as JSON text indented by two
    spaces, non-ASCII kept as is.

    Raises:
        TypeError: a value JSON cannot hold, or a key that is not a string.
    """
    return _encode(value, "")


def _encode(value: object, indent: str) -> str:
    # As json: subclasses of str (StrEnum) are written as their text, of int as their number.
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        return _encode_dict(value, indent)
    if isinstance(value, (list, tuple)):
        return _encode_list(value, indent)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encode_dict(value: dict[object, object], indent: str) -> str:
    if not value:
        return "{}"
    inner = indent + INDENT
    members = []
    for key, member in value.items():
        if not isinstance(key, str):
            raise TypeError(f"keys must be str, not {type(key).__name__}")
        # Strings, most members, without a call.
        text = encode_basestring(member) if isinstance(member, str) else _encode(member, inner)
        members.append(f"{encode_basestring(key)}: {text}")
    separator = ",\n" + inner
    return f"{{\n{inner}{separator.join(members)}\n{indent}}}"


def _encode_list(value: list[object] | tuple[object, ...], indent: str) -> str:
    if not value:
        return "[]"
    inner = indent + INDENT
    items = [
        encode_basestring(item) if isinstance(item, str) else _encode(item, inner) for item in value
    ]
    separator = ",\n" + inner
    return f"[\n{inner}{separator.join(items)}\n{indent}]"


def _float(value: float) -> str:
    """As json writes a float: its repr, and JavaScript's names for the non-finite ones."""
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == float("-inf"):
        return "-Infinity"
    return float.__repr__(value)
