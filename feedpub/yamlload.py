"""YAML documents to Python values: PyYAML's safe loading, faster for plain documents.

libyaml (C) composes the node tree; PyYAML's generic constructor then spends
most of the parse time in Python bookkeeping a plain front-matter block does
not need. ``load_yaml`` builds strings, lists and dicts directly and hands
every other node (explicit tags, merge keys, complex keys, aliases) to PyYAML's own
safe constructor, so the result is always what ``yaml.load`` would give.
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_PLAIN_SCALARS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("int", "float", "bool", "null", "str")
)


class _NotPlain(Exception):
    """The document needs PyYAML's full constructor."""


def build_document(
    node: Node, loader: yaml.SafeLoader | yaml.CSafeLoader, *, shared_nodes: bool
) -> object:
    """The value of a composed document, as ``loader.construct_document`` would give.

    ``shared_nodes`` (the text has aliases) sends it all to PyYAML, which
    builds a node used twice only once.

    Raises:
        yaml.YAMLError, ValueError, TypeError: as PyYAML's constructor does.
    """
    if not shared_nodes:
        try:
            return _build(node, loader)
        except _NotPlain:
            loader.constructed_objects = {}
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
        return build_document(node, loader, shared_nodes="*" in text)
    finally:
        loader.dispose()


def _build(node: Node, loader: yaml.SafeLoader | yaml.CSafeLoader) -> object:
    cls = node.__class__
    if cls is ScalarNode:
        if node.tag == _STR:
            return node.value
        if node.tag in _PLAIN_SCALARS:
            return loader.construct_object(node)
        raise _NotPlain
    if cls is SequenceNode and node.tag == _SEQ:
        return [_build(item, loader) for item in node.value]
    if cls is MappingNode and node.tag == _MAP:
        mapping: dict[object, object] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode or key_node.tag not in _PLAIN_SCALARS:
                raise _NotPlain  # merge keys, complex keys: PyYAML decides
            mapping[_build(key_node, loader)] = _build(value_node, loader)
        return mapping
    raise _NotPlain
