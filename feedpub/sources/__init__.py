"""The read stage: article files and the site's data files → articles and rejections.

    check_source       discover.py   a source is a folder or one article file, or says what it is
    scan_sources       discover.py   list and stat every article file; read the taxonomy
    load_scanned       loader.py     cached results for unchanged files; parse the rest
      └── load_file    loader.py     read.py (safe bytes, UTF-8) → frontmatter.py →
                                     yamlsafe.py (one hardened loader) → fields.py (Article)

It never imports the store: a build hands it a cache (``ParseCache``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .discover import Scan as Scan
    from .discover import SourceFile as SourceFile
    from .discover import check_source as check_source
    from .discover import scan_sources as scan_sources
    from .fields import url_problem as url_problem
    from .loader import ParseCache as ParseCache
    from .loader import load_file as load_file
    from .loader import load_scanned as load_scanned
    from .loader import load_sources as load_sources
    from .read import display_name as display_name
    from .read import read_bytes as read_bytes
    from .version import PARSER_VERSION as PARSER_VERSION
    from .version import parser_fingerprint as parser_fingerprint

# Imported when first asked for: a build that finds nothing changed lists files
# (discover.py) and never needs the parser, YAML included.
_HOMES = {
    "PARSER_VERSION": "version",
    "ParseCache": "loader",
    "Scan": "discover",
    "SourceFile": "discover",
    "check_source": "discover",
    "display_name": "read",
    "load_file": "loader",
    "load_scanned": "loader",
    "load_sources": "loader",
    "parser_fingerprint": "version",
    "read_bytes": "read",
    "scan_sources": "discover",
    "url_problem": "fields",
}

__all__ = [
    "PARSER_VERSION",
    "ParseCache",
    "Scan",
    "SourceFile",
    "check_source",
    "display_name",
    "load_file",
    "load_scanned",
    "load_sources",
    "parser_fingerprint",
    "read_bytes",
    "scan_sources",
    "url_problem",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
