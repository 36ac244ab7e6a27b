"""Cleaning of plain-text fields: the one place that decides what readers see.

The documented cleaning of every plain-text field (title, excerpt, names):
HTML entities decoded once (``we&#8217;re`` → ``we’re``), characters that XML
1.0 forbids and other control characters (C0, DEL, C1) removed, runs of white
space (including NEL, U+2028 and U+2029) folded to one space, ends stripped.
"""

from __future__ import annotations

import html
import re
import unicodedata

# XML 1.0 § 2.2 Char production, inverted: what may never appear in a feed.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Controls XML 1.0 allows but no reader shows; NEL (\x85) is left out of the
# set, to be folded into a space like any line break.
_CONTROLS = re.compile("[\x7f-\x84\x86-\x9f]")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
MAX_SLUG_LENGTH = 80


def clean_text(value: str) -> str:
    """Return ``value`` as readers should see it (see the module docstring)."""
    if (
        value.isprintable()  # no control, no XML-illegal character, no white space but ' '
        and "&" not in value
        and "  " not in value
        and value[:1] != " "
        and value[-1:] != " "
    ):
        return value  # nothing to decode, remove or fold: most fields, most files
    return clean_text_fully(value)


def clean_text_fully(value: str) -> str:
    """``clean_text`` without its shortcut for text with nothing to clean."""
    if "&" in value:
        value = html.unescape(value)
    if not value.isprintable():  # printable text has nothing for either pattern to remove
        value = _CONTROLS.sub("", strip_xml_illegal(value))
    return " ".join(value.split())


def strip_xml_illegal(value: str) -> str:
    """Remove characters XML 1.0 cannot carry (C0 controls, U+FFFE, lone surrogates)."""
    if value.isprintable():  # every character XML 1.0 forbids is unprintable
        return value
    return _XML_ILLEGAL.sub("", value)


def slugify(name: str) -> str:
    """An ASCII slug: lowercase letters, digits and single hyphens; may be empty.

    Accents are folded (``Café`` → ``cafe``); anything else outside the safe
    alphabet becomes a hyphen, so no slug can hold ``/``, ``.`` or ``..``.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_JUNK.sub("-", folded.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-")


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
