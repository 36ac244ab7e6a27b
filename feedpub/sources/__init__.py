"""The read stage: article files and the site's data files → articles and rejections.

    check_source       discover.py   a source is a folder or one article file, or says what it is
    scan_sources       discover.py   list and stat every article file; read the taxonomy
    load_scanned       loader.py     cached results for unchanged files; parse the rest
      └── load_file    loader.py     read.py (safe bytes, UTF-8) → frontmatter.py →
                                     yamlsafe.py (one hardened loader) → fields.py (Article)

It never imports the store: a build hands it a cache (``ParseCache``).
"""

from __future__ import annotations

from .discover import Scan, SourceFile, check_source, scan_sources
from .fields import url_problem
from .loader import (
    PARSER_VERSION,
    ParseCache,
    load_file,
    load_scanned,
    load_sources,
    parser_fingerprint,
)
from .read import display_name, read_bytes

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
