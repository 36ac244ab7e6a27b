"""Front matter: the YAML between an article file's ``---`` fences, read safely."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import SourceError
from .yamlfast import read_plain
from .yamlsafe import normalize_yaml_text, read_yaml

_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.M)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """An article's parsed front matter and where each top-level key is."""

    data: Mapping[str, object]
    lines: Mapping[str, int]  # key → 1-based line of the file

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key)


def split_front_matter(text: str, display: str) -> tuple[str, int]:
    """Return the YAML between the ``---`` fences and the line it starts on.

    Raises:
        SourceError: no opening fence, or no closing one.
    """
    first_line_end = text.find("\n")
    first_line = text if first_line_end < 0 else text[:first_line_end]
    if first_line.rstrip("\r \t") != "---":
        raise SourceError(display, "no front matter: the file must start with a '---' line", 1)
    if first_line_end < 0:
        raise SourceError(display, "front matter is not closed by a '---' line", 1)
    start = first_line_end + 1
    fence = _FENCE.search(text, start)
    if fence is None:
        raise SourceError(display, "front matter is not closed by a '---' line", 1)
    return text[start : fence.start()], 2


def parse_front_matter(text: str, display: str) -> FrontMatter:
    """Parse a file's front matter into a mapping, with the line of each key.

    Raises:
        SourceError: no front matter, or its YAML is malformed, unsafe, too
            large, too deep, or not a mapping.
    """
    block, first_line = split_front_matter(text, display)
    plain = read_plain(normalize_yaml_text(block))
    if plain is not None:  # yaml-rs read it, and PyYAML would read the same
        mapping, lines = plain
        return FrontMatter(mapping, {key: first_line + line for key, line in lines.items()})
    document = read_yaml(block, display, first_line)
    data = document.data
    if data is None:
        raise SourceError(display, "front matter is empty", first_line)
    if not isinstance(data, dict):
        raise SourceError(
            display, f"front matter must be a mapping of keys, got {_kind(data)}", first_line
        )
    return FrontMatter(data, document.lines)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"
