"""YAML written by strangers, read safely: one hardened loader, one set of limits.

YAML is a small program for the parser, so reading it is bounded at every
step, and every failure is a SourceError with a line:

- Safe loading only: no tag builds a Python object (``!!python/...`` is an
  error, never executed). Timestamps stay text; the fields stage parses dates.
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
  graph is walked as the tree it stands for, against the same limits, before
  PyYAML's constructor builds anything from it.
- Plain documents (strings, lists, mappings, plain scalars, no aliases) are
  built directly from the node tree, spending the same budget on the way:
  PyYAML's generic constructor spends most of the parse time in bookkeeping a
  front-matter block does not need. Anything else goes to PyYAML, so the
  result is always what ``yaml.load`` with this loader gives.

The limits (``Limits``) are counted one way everywhere: every value of a
collection costs one (a mapping's keys too), nesting is counted in collections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import SourceError
from ..text import shorten

MAX_YAML_NODES = 100_000  # far above any real article; stops alias ("billion laughs") bombs
MAX_YAML_DEPTH = 64
# The text a document holds once aliases are expanded: a small file can name a
# large value thousands of times. (Without aliases the text is the file's own.)
MAX_YAML_CHARS = 2_000_000
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
_PLAIN_SCALARS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("int", "float", "bool", "null", "str")
)
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")

# What YAML 1.1 refuses in a stream (C0 but tab/LF/CR, DEL, C1 but NEL) and
# the two noncharacters; dropped, since XML 1.0 could not carry them either.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_LINE_SEPARATORS = re.compile("[\x85\u2028\u2029]")
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# \uD83D\uDE00 not preceded by an odd number of backslashes (an escaped backslash).
_ESCAPED_PAIR = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
)

Mark = yaml.Mark | yaml._yaml.Mark  # where in the text: PyYAML's or libyaml's

_BaseLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # libyaml: ~10x faster than the pure-Python loader
except AttributeError:  # pragma: no cover - only where PyYAML was built without libyaml
    _BaseLoader = yaml.SafeLoader


class FrontMatterLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that leaves timestamps as text.

    Dates are parsed by the fields stage, so a bad one (month 13) is a clean
    message with a line instead of PyYAML's bare ValueError, and naive/offset
    forms are handled in one place. A scalar that cannot become the value its
    tag asks for (``!!int abc``) is a YAML error at that scalar's line.
    """

    def construct_object(self, node: Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, ArithmeticError, LookupError) as e:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            if isinstance(node, ScalarNode):
                what = repr(shorten(node.value))
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

    def descend_resolver(self, _node: Node | None, _index: object) -> None:
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
            None, None, f"the number {shorten(scalar.value)!r} has too many digits", node.start_mark
        )
    return loader.construct_yaml_int(scalar)


FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
assert not _BaseLoader.yaml_path_resolvers, "resolve() below assumes no path resolvers"
# Per first character, the candidates PyYAML's resolve() would try, in its order.
_Candidates = tuple[tuple[str, re.Pattern[str]], ...]
_WILDCARD: _Candidates = tuple(FrontMatterLoader.yaml_implicit_resolvers.get(None, []))
_RESOLVERS: dict[str, _Candidates] = {
    first: (*resolvers, *_WILDCARD)
    for first, resolvers in FrontMatterLoader.yaml_implicit_resolvers.items()
    if first is not None
}
FrontMatterLoader.add_constructor(_TIMESTAMP, _construct_text)  # explicit !!timestamp
FrontMatterLoader.add_constructor(_INT, _construct_int)


# --------------------------------------------------------------------------- limits


class LimitExceeded(Exception):
    """A document nests deeper or holds more values than allowed; ``mark`` is where."""

    def __init__(
        self, too_deep: bool, mark: Mark | None, in_text: bool = False, too_long: bool = False
    ) -> None:
        super().__init__("too deep" if too_deep else "too long" if too_long else "too many values")
        self.too_deep = too_deep
        self.too_long = too_long
        self.mark = mark
        self.in_text = in_text  # counted in the text itself, before aliases expand


class Limits:
    """The budget of one document: values left to spend and the deepest nesting allowed."""

    __slots__ = ("chars", "in_text", "max_depth", "values")

    def __init__(
        self,
        max_values: int = MAX_YAML_NODES,
        max_depth: int = MAX_YAML_DEPTH,
        *,
        in_text: bool = False,
    ):
        self.values = max_values - 1  # the document's own node
        self.max_depth = max_depth
        self.in_text = in_text
        self.chars = MAX_YAML_CHARS

    def spend(self, values: int, depth: int, mark: Mark | None) -> None:
        """Account for ``values`` more values at nesting ``depth``.

        Raises:
            LimitExceeded: over the value budget or the nesting limit.
        """
        self.values -= values
        if self.values < 0 or depth > self.max_depth:
            raise LimitExceeded(self.values >= 0, mark, self.in_text)

    def spend_chars(self, chars: int, mark: Mark | None) -> None:
        """Account for ``chars`` more characters of scalar text.

        Raises:
            LimitExceeded: over MAX_YAML_CHARS.
        """
        self.chars -= chars
        if self.chars < 0:
            raise LimitExceeded(False, mark, too_long=True)


def _scan_events(block: str, limits: Limits) -> None:
    """Stream parser events (no tree) and stop at the first limit crossed."""
    depth = 0
    for event in yaml.parse(block, Loader=FrontMatterLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            limits.spend(0, depth, event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            limits.spend(1, depth, event.start_mark)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return node.value if isinstance(node, SequenceNode) else []


def _check_graph(node: Node, limits: Limits) -> None:
    """Walk a node graph as the tree it stands for (aliases expanded), within ``limits``.

    The walk stops at the budget, so it costs bounded time whatever the document.
    """
    stack: list[tuple[Node, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        children = _children(current)
        if not children:
            continue
        # Scalars are counted here and never stacked.
        mark = children[-1].start_mark
        limits.spend(len(children), depth + 1, mark)
        limits.spend_chars(sum(len(c.value) for c in children if isinstance(c, ScalarNode)), mark)
        stack.extend((child, depth + 1) for child in children if not isinstance(child, ScalarNode))


# --------------------------------------------------------------------------- building


class _NotPlain(Exception):
    """The document needs PyYAML's full constructor."""


def _build(node: Node, loader: FrontMatterLoader, limits: Limits, depth: int = 0) -> object:
    """A plain document's value, as PyYAML would build it (raises _NotPlain otherwise).

    Scalars are handled inline, not in a helper: this runs for every value of
    every article of a cold build.
    """
    cls = node.__class__
    if cls is ScalarNode:
        if node.tag == _STR:
            return node.value
        if node.tag == _INT and _DECIMAL.fullmatch(node.value):
            return int(node.value)  # what YAML 1.1 reads too: no sign, no leading 0, no _
        if node.tag in _PLAIN_SCALARS:
            try:  # the tag's constructor itself, without the graph bookkeeping
                return loader.yaml_constructors[node.tag](loader, node)
            except (yaml.YAMLError, ValueError, TypeError, ArithmeticError, LookupError):
                return loader.construct_object(node)  # PyYAML's own path gives the error
        raise _NotPlain
    children = node.value
    if children:
        last = children[-1][1] if cls is MappingNode else children[-1]
        limits.spend(len(children) * (2 if cls is MappingNode else 1), depth + 1, last.start_mark)
    if cls is SequenceNode and node.tag == _SEQ:
        return [_build(item, loader, limits, depth + 1) for item in children]
    if cls is MappingNode and node.tag == _MAP:
        mapping: dict[object, object] = {}
        for key_node, value_node in children:
            if key_node.__class__ is not ScalarNode or key_node.tag not in _PLAIN_SCALARS:
                raise _NotPlain  # merge keys, complex keys: PyYAML decides
            key = _build(key_node, loader, limits, depth + 1)
            mapping[key] = _build(value_node, loader, limits, depth + 1)
        return mapping
    raise _NotPlain


def build_document(node: Node, loader: FrontMatterLoader, limits: Limits, aliases: bool) -> object:
    """The value of a composed document, as ``loader.construct_document`` would give.

    Plain documents are built here; ``aliases`` (the text has some) and
    anything unusual go to PyYAML, which builds a node used twice only once,
    after the node graph is checked against ``limits`` as the tree it stands for.

    Raises:
        LimitExceeded: the document is too deep or too large.
        yaml.YAMLError, ValueError, TypeError: as PyYAML's constructor does.
    """
    if not aliases:
        try:
            return _build(node, loader, Limits(limits.values + 1, limits.max_depth))
        except _NotPlain:
            loader.constructed_objects = {}
    _check_graph(node, limits)
    return loader.construct_document(node)


def load_yaml(text: str, limits: Limits | None = None) -> object:
    """Load one YAML document as ``yaml.load(text, FrontMatterLoader)`` would.

    Without ``limits`` nothing is bounded: for trusted text (and for tests
    that hold this loader equal to PyYAML's).

    Raises:
        LimitExceeded, yaml.YAMLError, ValueError, TypeError: as above.
    """
    loader = FrontMatterLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return build_document(node, loader, limits or Limits(10**9, 10**9), "*" in text)
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- one document


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A loaded YAML document and the line of each top-level key."""

    data: object
    lines: dict[str, int]  # key → 1-based line of the file


def read_yaml(
    block: str, display: str, first_line: int, what: str = "front matter"
) -> YamlDocument:
    """Load one YAML document within the limits; also the line of each top-level key.

    ``first_line`` is the file line ``block`` starts on and ``what`` names the
    document, for messages.

    Raises:
        SourceError: malformed, unsafe, too large or too deep.
    """
    block = normalize_yaml_text(block)
    try:
        if len(block) > _SCAN_ABOVE_CHARS or _openers(block) > _SCAN_ABOVE_OPENERS:
            _scan_events(block, Limits(MAX_YAML_NODES + 1, in_text=True))
        loader = FrontMatterLoader(block)
        try:
            node = loader.get_single_node()
            data = None
            if node is not None:
                data = build_document(node, loader, Limits(), "*" in block)
        finally:
            loader.dispose()
    except LimitExceeded as e:
        raise _limit_error(e, display, first_line, what) from e
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
    return YamlDocument(data, lines)


def _limit_error(e: LimitExceeded, display: str, first_line: int, what: str) -> SourceError:
    line = _line(first_line, e.mark)
    if e.too_long:
        return SourceError(
            display, f"{what} expands to over {MAX_YAML_CHARS:,} characters of text", line
        )
    if e.too_deep:
        return SourceError(display, f"{what} is nested over {MAX_YAML_DEPTH} levels deep", line)
    verb = "holds" if e.in_text else "expands to"
    return SourceError(display, f"{what} {verb} over {MAX_YAML_NODES:,} values", line)


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


def _line(first_line: int, mark: Mark | None) -> int | None:
    return first_line + mark.line if mark is not None else None
