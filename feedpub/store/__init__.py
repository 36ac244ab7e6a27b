"""The state file, and every SQL statement feedpub runs.

state.py      open, migrate, heal, transactions; StateError for trouble with the file
articles.py   the parsed-article cache (one row per file: head columns, body JSON)
builds.py     the last build's fingerprint and report; one digest per feed
links.py      link-check results, one row per URL
changes.py    when each story's content last changed (Atom updated, JSON date_modified)
published.py  what the last build published, indexed in feed order; the listing it saw
"""

from __future__ import annotations

from .articles import ArticleCache
from .state import State

__all__ = ["ArticleCache", "State"]
