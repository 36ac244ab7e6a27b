"""Front matter: split it from an article file and read its YAML safely.

YAML written by strangers is a small program for the parser, so reading it is
bounded at every step, and every failure is a SourceError with a line:

- Safe loading only: no tag builds a Python object (``!!python/...`` is an
  error, never executed). Timestamps stay text; ``load`` parses dates itself.
- Text YAML would refuse or misread is normalized first: C0/C1 controls and
  the noncharacters U+FFFE/U+FFFF are dropped; NEL, LS and PS (line breaks to
  YAML 1.1, not to any editor) read as spaces, so lines in messages are the
  lines an editor shows; JSON-style surrogate pair escapes (``"\\ud83d\\ude00"``,
  what ``json.dumps`` writes for an emoji) read as the character they spell.
- Nesting and size are bounded *before* a node tree is built: libyaml's
  composer recurses in C, and builds with libyaml 0.2.5 crash (SIGSEGV) on
  some tens of thousands of nested ``[``. A cheap count of the characters that
  can open a collection decides whether a streaming scan of parser events
  (iterative, stopped at the limits) is needed first.
- Aliases make YAML a graph in which a few lines name billions of values (and
  PyYAML before 6.0.4 copies merged ``<<`` pairs at every level): the node
  graph is walked as the tree it stands for, against a node budget, before any
  data is built from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import SourceError
from .yamlload import LimitExceeded, build_document

MAX_YAML_NODES = 100_000  # far above any real article; stops alias ("billion laughs") bombs
MAX_YAML_DEPTH = 64
MAX_NUMBER_DIGITS = 100  # an integer literal longer than this is never a real value
# Below both, a document cannot nest deeper than the composer copes with, nor
# hold more nodes than are cheap to build, so it is parsed without a pre-scan.
_SCAN_ABOVE_CHARS = 16_384
_SCAN_ABOVE_OPENERS = 256

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INT = "tag:yaml.org,2002:int"

# What YAML 1.1 refuses in a stream (C0 but tab/LF/CR, DEL, C1 but NEL) and
# the two noncharacters; dropped, since XML 1.0 could not carry them either.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_LINE_SEPARATORS = re.compile("[\x85\u2028\u2029]")
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# \uD83D\uDE00 not preceded by an odd number of backslashes (an escaped backslash).
_ESCAPED_PAIR = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
)
_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.M)

_BaseLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # libyaml: ~10x faster than the pure-Python loader
except AttributeError:  # pragma: no cover - only where PyYAML was built without libyaml
    _BaseLoader = yaml.SafeLoader


class _FrontMatterLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that leaves timestamps as text.

    Dates are parsed by ``load``, so a bad one (month 13) is a clean message
    with a line instead of PyYAML's bare ValueError, and naive/offset forms are
    handled in one place. A scalar that cannot become the value its tag asks
    for (``!!int abc``) is a YAML error at that scalar's line.
    """

    def construct_object(self, node: Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, ArithmeticError, LookupError) as e:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            if isinstance(node, ScalarNode):
                what = repr(_short(node.value))
            else:
                what = "a mapping" if isinstance(node, MappingNode) else "a list"
            raise ConstructorError(
                None, None, f"cannot read {what} as {tag}", node.start_mark
            ) from e

    # libyaml's composer calls these for every node. PyYAML's versions rebuild
    # the candidate list and consult path resolvers (none exist here) each time;
    # these give the same tags from lists made once (see _RESOLVERS).
    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                assert value is not None
                for tag, regexp in _RESOLVERS.get(value[:1], _WILDCARD):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def _scalar(node: Node, tag: str) -> ScalarNode:
    if not isinstance(node, ScalarNode):
        kind = "a mapping" if isinstance(node, MappingNode) else "a list"
        raise ConstructorError(
            None, None, f"{tag} needs a single value, not {kind}", node.start_mark
        )
    return node


def _construct_text(loader: SafeConstructor, node: Node) -> str:
    return str(loader.construct_scalar(_scalar(node, "!!timestamp")))


def _construct_int(loader: SafeConstructor, node: Node) -> int:
    scalar = _scalar(node, "!!int")
    if len(scalar.value) > MAX_NUMBER_DIGITS:
        raise ConstructorError(
            None, None, f"the number {_short(scalar.value)!r} has too many digits", node.start_mark
        )
    return loader.construct_yaml_int(scalar)


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
assert not _BaseLoader.yaml_path_resolvers, "resolve() below assumes no path resolvers"
# Per first character, the candidates PyYAML's resolve() would try, in its order.
_Candidates = tuple[tuple[str, re.Pattern[str]], ...]
_WILDCARD: _Candidates = tuple(_FrontMatterLoader.yaml_implicit_resolvers.get(None, []))
_RESOLVERS: dict[str, _Candidates] = {
    first: (*resolvers, *_WILDCARD)
    for first, resolvers in _FrontMatterLoader.yaml_implicit_resolvers.items()
    if first is not None
}
_FrontMatterLoader.add_constructor(_TIMESTAMP, _construct_text)  # explicit !!timestamp
_FrontMatterLoader.add_constructor(_INT, _construct_int)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """An article's parsed front matter and where each top-level key is."""

    data: Mapping[str, object]
    lines: Mapping[str, int]  # key → 1-based line of the file
    first_line: int

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
    data, lines = read_yaml(block, display, first_line)
    if data is None:
        raise SourceError(display, "front matter is empty", first_line)
    if not isinstance(data, dict):
        raise SourceError(
            display, f"front matter must be a mapping of keys, got {_kind(data)}", first_line
        )
    return FrontMatter(data, lines, first_line)


def read_yaml(
    block: str, display: str, first_line: int, what: str = "front matter"
) -> tuple[object, dict[str, int]]:
    """Load one YAML document within the limits; also the line of each top-level key.

    ``first_line`` is the file line ``block`` starts on and ``what`` names the
    document, for messages.

    Raises:
        SourceError: malformed, unsafe, too large or too deep.
    """
    block = normalize_yaml_text(block)
    try:
        if len(block) > _SCAN_ABOVE_CHARS or _openers(block) > _SCAN_ABOVE_OPENERS:
            _scan_events(block, display, first_line, what)
        loader = _FrontMatterLoader(block)
        try:
            node = loader.get_single_node()
            data = None
            if node is not None:
                data = build_document(
                    node,
                    loader,
                    shared_nodes="*" in block,
                    max_values=MAX_YAML_NODES,
                    max_depth=MAX_YAML_DEPTH,
                    check_limits=lambda n: check_size(n, display, first_line, what),
                )
        finally:
            loader.dispose()
    except LimitExceeded as e:
        line = _line(first_line, e.mark)
        if e.too_deep:
            raise SourceError(
                display, f"{what} is nested over {MAX_YAML_DEPTH} levels deep", line
            ) from e
        raise SourceError(display, f"{what} expands to over {MAX_YAML_NODES:,} values", line) from e
    except yaml.MarkedYAMLError as e:
        line = _line(first_line, e.problem_mark or e.context_mark)
        problem = e.problem or e.context or "malformed YAML"
        if problem == "exceeded maximum nesting depth":  # libyaml 0.2.6's own limit (1000)
            message = f"{what} is nested over {MAX_YAML_DEPTH} levels deep"
            raise SourceError(display, message, line) from e
        raise SourceError(display, f"YAML error in {what}: {problem}", line) from e
    except yaml.YAMLError as e:
        raise SourceError(display, f"YAML error in {what}: {e}", first_line) from e
    except UnicodeDecodeError as e:  # libyaml checks the stream, not %-escapes in tags
        raise SourceError(
            display, f"YAML error in {what}: a tag is not UTF-8 once its %-escapes are decoded"
        ) from e
    except RecursionError as e:  # the pure-Python composer, where libyaml is missing
        raise SourceError(display, f"{what} is nested too deeply") from e
    lines: dict[str, int] = {}
    if isinstance(node, MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode):
                lines[key_node.value] = first_line + key_node.start_mark.line
    return data, lines


def normalize_yaml_text(block: str) -> str:
    """The YAML text as the parser should see it (see the module docstring)."""
    if _SUSPECT.search(block):  # one scan in the usual case
        block = _UNREADABLE.sub("", _LINE_SEPARATORS.sub(" ", block))
    if "\\ud" in block or "\\uD" in block:
        block = _ESCAPED_PAIR.sub(_join_pair, block)
    return block


def _join_pair(match: re.Match[str]) -> str:
    high, low = int(match.group(2), 16), int(match.group(3), 16)
    code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    return f"{match.group(1)}\\U{code:08X}"


def _openers(block: str) -> int:
    """An upper bound of the nesting depth: every collection opens with one of these."""
    return sum(block.count(c) for c in "[{-?:")


def _scan_events(block: str, display: str, first_line: int, what: str) -> None:
    """Stream parser events (no tree) and stop at the first limit crossed."""
    depth = 0
    nodes = 0
    for event in yaml.parse(block, Loader=_FrontMatterLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise SourceError(
                    display,
                    f"{what} is nested over {MAX_YAML_DEPTH} levels deep",
                    _line(first_line, event.start_mark),
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        elif not isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            continue
        nodes += 1
        if nodes > MAX_YAML_NODES:
            raise SourceError(
                display,
                f"{what} holds over {MAX_YAML_NODES:,} values",
                _line(first_line, event.start_mark),
            )


def _line(first_line: int, mark: yaml.Mark | yaml._yaml.Mark | None) -> int | None:
    return first_line + mark.line if mark is not None else None


def check_size(node: Node, display: str, first_line: int, what: str = "front matter") -> None:
    """Refuse a node graph whose expansion is huge (aliases) or absurdly deep.

    Aliases make YAML a graph: a few lines can name billions of values. The
    walk sees the graph as the tree the data will be and stops at a node
    budget, so it costs bounded time whatever the document.
    """
    budget = MAX_YAML_NODES - 1
    stack: list[tuple[Node, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, MappingNode):
            children = [part for pair in current.value for part in pair]
        elif isinstance(current, SequenceNode):
            children = current.value
        else:
            continue
        if not children:
            continue
        # Scalars are counted here and never stacked: most nodes cost one subtraction.
        budget -= len(children)
        if budget < 0 or depth + 1 > MAX_YAML_DEPTH:
            line = _line(first_line, children[-1].start_mark)
            if budget < 0:
                raise SourceError(
                    display, f"{what} expands to over {MAX_YAML_NODES:,} values", line
                )
            raise SourceError(display, f"{what} is nested over {MAX_YAML_DEPTH} levels deep", line)
        stack.extend((child, depth + 1) for child in children if not isinstance(child, ScalarNode))


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


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
