"""Front matter: the YAML between an article file's ``---`` fences, read safely."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import SourceError
from .yamlfast import may_need_normalizing, rare_bytes, read_plain
from .yamlsafe import normalize_yaml_text, read_yaml


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
    end = _closing_fence(text, start)
    if end < 0:
        raise SourceError(display, "front matter is not closed by a '---' line", 1)
    return text[start:end], 2


def _closing_fence(text: str, start: int) -> int:
    """Where the first line from ``start`` on that is ``---`` or ``...`` starts, or -1.

    Such a line may end in spaces and tabs and one CR. ``text[start - 1]`` is
    the first line's LF, so every candidate is found as LF and three marks
    (two ``find`` calls in C, not a regex tried at every position).
    """
    found = -1
    for mark in ("\n---", "\n..."):
        at = text.find(mark, start - 1, found + 4 if found >= 0 else len(text))
        while at >= 0 and not _ends_fence(text, at + 4):
            at = text.find(mark, at + 1, found + 4 if found >= 0 else len(text))
        if at >= 0:
            found = at + 1
    return found


def _ends_fence(text: str, at: int) -> bool:
    """Whether the rest of the line from ``at`` is spaces and tabs, then at most one CR."""
    end = text.find("\n", at)
    rest = text[at : end if end >= 0 else len(text)]
    if rest.endswith("\r"):
        rest = rest[:-1]
    return not rest.strip(" \t")


def parse_front_matter(text: str, display: str, raw: bytes | None = None) -> FrontMatter:
    """Parse a file's front matter into a mapping, with the line of each key.

    ``raw`` is the file's bytes (``text`` as UTF-8), if the caller has them:
    they tell at once which rare characters the front matter cannot hold.

    Raises:
        SourceError: no front matter, or its YAML is malformed, unsafe, too
            large, too deep, or not a mapping.
    """
    block, first_line = split_front_matter(text, display)
    if raw is None:
        raw = block.encode("utf-8", "surrogatepass")
    rare = rare_bytes(raw)
    if may_need_normalizing(block, raw, rare):
        block = normalize_yaml_text(block)
        rare = rare_bytes(block.encode("utf-8", "surrogatepass"))
    plain = read_plain(block, rare, first_line)
    if plain is not None:  # yaml-rs read it, and PyYAML would read the same
        return FrontMatter(*plain)
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
