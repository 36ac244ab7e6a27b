"""YAML documents to Python values: PyYAML's safe loading, faster for plain documents.

libyaml (C) composes the node tree; PyYAML's generic constructor then spends
most of the parse time in Python bookkeeping a plain front-matter block does
not need. ``load_yaml`` builds strings, lists and dicts directly and hands
every other node (explicit tags, merge keys, complex keys, aliases) to PyYAML's own
safe constructor, so the result is always what ``yaml.load`` would give.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_PLAIN_SCALARS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("int", "float", "bool", "null", "str")
)


class _NotPlain(Exception):
    """The document needs PyYAML's full constructor."""


def build_document(
    node: Node,
    loader: yaml.SafeLoader | yaml.CSafeLoader,
    *,
    shared_nodes: bool,
    max_values: int = 100_000,
    max_depth: int = 64,
    check_limits: Callable[[Node], None] | None = None,
) -> object:
    """The value of a composed document, as ``loader.construct_document`` would give.

    Plain documents are built here, checked against ``max_values`` and
    ``max_depth`` on the way (raising LimitExceeded). ``shared_nodes`` (the
    text has aliases) and anything unusual go to PyYAML, which builds a node
    used twice only once; ``check_limits`` vets the node graph before that.

    Raises:
        LimitExceeded: the plain document is too deep or too large.
        yaml.YAMLError, ValueError, TypeError: as PyYAML's constructor does.
    """
    if not shared_nodes:
        try:
            return _build(node, loader, _Budget(max_values - 1, max_depth))
        except _NotPlain:
            loader.constructed_objects = {}
    if check_limits is not None:
        check_limits(node)
    return loader.construct_document(node)


def load_yaml(text: str, loader_class: type[yaml.SafeLoader] | type[yaml.CSafeLoader]) -> object:
    """Load one YAML document with ``loader_class`` (a safe loader), like ``yaml.load``.

    Raises:
        yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError:
            as ``yaml.load`` does for the same document.
    """
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return build_document(
            node, loader, shared_nodes="*" in text, max_values=10**9, max_depth=10**9
        )
    finally:
        loader.dispose()


class LimitExceeded(Exception):
    """A document nests deeper or holds more values than allowed; ``mark`` is where."""

    def __init__(self, too_deep: bool, mark: yaml.Mark | None) -> None:
        super().__init__("too deep" if too_deep else "too many values")
        self.too_deep = too_deep
        self.mark = mark


class _Budget:
    def __init__(self, values: int, depth: int) -> None:
        self.values = values
        self.depth = depth


def _build(
    node: Node, loader: yaml.SafeLoader | yaml.CSafeLoader, budget: _Budget, depth: int = 0
) -> object:
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
        # The same bounds, counted the same way, as frontmatter.check_size.
        size = len(children) * (2 if cls is MappingNode else 1)
        budget.values -= size
        if budget.values < 0 or depth + 1 > budget.depth:
            last = children[-1][1] if cls is MappingNode else children[-1]
            raise LimitExceeded(budget.values >= 0, last.start_mark)
    if cls is SequenceNode and node.tag == _SEQ:
        return [_build(item, loader, budget, depth + 1) for item in children]
    if cls is MappingNode and node.tag == _MAP:
        mapping: dict[object, object] = {}
        for key_node, value_node in children:
            if key_node.__class__ is not ScalarNode or key_node.tag not in _PLAIN_SCALARS:
                raise _NotPlain  # merge keys, complex keys: PyYAML decides
            key = _build(key_node, loader, budget, depth + 1)
            mapping[key] = _build(value_node, loader, budget, depth + 1)
        return mapping
    raise _NotPlain
