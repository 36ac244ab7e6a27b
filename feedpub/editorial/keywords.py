"""The one keyword rule, for keyword feeds and for topics from keywords.

A keyword matches a text when it occurs there case-insensitively (Unicode
case folding, NFC) and on word boundaries: the characters just before and
just after it are not letters, digits or underscores of any script. A
keyword of several words matches as a phrase, with any run of white space
between its words. So "power apps" matches "Power  Apps!" and "AI" does not
match "said"; "café" matches "Café" whichever way the é is encoded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


def fold(text: str) -> str:
    """Text as keywords are compared: NFC, case-folded."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


@dataclass(frozen=True, slots=True)
class KeywordMatcher:
    """Matches any of a set of keywords in a text."""

    pattern: re.Pattern[str] | None  # None: no keywords, matches nothing

    def matches(self, *texts: str) -> bool:
        if self.pattern is None:
            return False
        return any(self.pattern.search(fold(text)) for text in texts if text)


def compile_keywords(keywords: Iterable[str]) -> KeywordMatcher:
    """One matcher for all of ``keywords``; blank keywords are ignored."""
    phrases = sorted(
        {r"\s+".join(re.escape(word) for word in fold(k).split()) for k in keywords if k.strip()}
    )
    if not phrases:
        return KeywordMatcher(None)
    return KeywordMatcher(re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)"))
