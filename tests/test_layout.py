"""The code's layout holds: the public API is what docs/api.md lists; only the store
speaks SQL; the renderers touch no file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import feedpub

PACKAGE = Path(feedpub.__file__).parent
DOCS = PACKAGE.parent / "docs" / "api.md"


def _documented_names() -> set[str]:
    names: set[str] = set()
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Za-z_]+)", first_cell))
    return names


def _type_checking_names() -> set[str]:
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for child in ast.walk(node):
                if isinstance(child, ast.ImportFrom):
                    names.update(alias.asname or alias.name for alias in child.names)
    return names


def test_the_exported_names_are_exactly_the_documented_api() -> None:
    exported = set(feedpub.__all__)
    assert exported == _documented_names()
    assert exported - {"__version__"} == _type_checking_names()
    for name in exported:
        assert getattr(feedpub, name) is not None, name


def _sources(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*.py"))
    }


def test_only_the_store_speaks_sql() -> None:
    speaking = {
        name
        for name, text in _sources(PACKAGE).items()
        if re.search(r"^\s*import sqlite3|\.execute(many)?\(", text, re.M)
    }
    assert speaking and all(name.startswith("store/") for name in speaking), speaking


def test_renderers_never_open_write_or_remove_files() -> None:
    touching = re.compile(
        r"\bopen\(|read_text|read_bytes|write_text|write_bytes|\bunlink\b|rmtree|mkdir"
        r"|^\s*import (os|shutil|tempfile)\b|^from (os|shutil|tempfile|pathlib)\b",
        re.M,
    )
    found = {
        name: match.group(0)
        for name, text in _sources(PACKAGE / "render").items()
        if (match := touching.search(text))
    }
    assert found == {}
