"""The files shipped inside the package (stylesheet, CSS, script, templates for ``init``)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def asset_text(name: str) -> str:
    """The text of ``feedpub/static/<name>``; read once per process."""
    return (files("feedpub") / "static" / name).read_text(encoding="utf-8")
