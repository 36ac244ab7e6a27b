"""What a cached parse result depends on: the parser's version and the size limit."""

from __future__ import annotations

# Bump when loading changes what an article holds: every cached result is parsed again.
PARSER_VERSION = 4  # 4: related stories keep their date


def parser_fingerprint(max_file_bytes: int) -> str:
    """Results made under another parser version or size limit are parsed again."""
    return f"v{PARSER_VERSION}:max={max_file_bytes}"
