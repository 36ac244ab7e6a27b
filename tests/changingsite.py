"""A site whose article files a seeded random step changes, for the incremental-build tests.

Subclasses say where a new file goes (``new_path``), what a story's file holds
(``story``) and which files there are (``files``); the steps that need no more
than that (add, repeat a URL, delete, rename, touch) live here once.
"""

from __future__ import annotations

import os
import random
from pathlib import Path


class ChangingSite:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0  # stories made so far: each new file is numbered after them

    def files(self) -> list[Path]:
        raise NotImplementedError

    def new_path(self) -> Path:
        """Where the next story's file goes (``count`` is one up when this is called)."""
        raise NotImplementedError

    def story(self, number: int, url: str | None = None) -> str:
        raise NotImplementedError

    def add(self) -> str:
        self.count += 1
        path = self.new_path()
        path.write_text(self.story(self.count), encoding="utf-8")
        return f"add {path.name}"

    def add_duplicate(self) -> str:
        """A new file that repeats the URL of a story already there: one of the two is merged."""
        original = self.rng.choice(self.files())
        url = self.field(original, "webUrl").split('"')[1]
        self.count += 1
        path = self.new_path()
        path.write_text(self.story(self.count, url), encoding="utf-8")
        return f"add {path.name} repeating {original.name}"

    def delete(self) -> str:
        victim = self.rng.choice(self.files())
        victim.unlink()
        return f"delete {victim.name}"

    def rename(self) -> str:
        victim = self.rng.choice(self.files())
        self.count += 1
        victim.rename(victim.with_name(f"renamed-{self.count}.md"))
        return f"rename {victim.name}"

    def touch(self) -> str:
        victim = self.rng.choice(self.files())
        later = victim.stat().st_mtime_ns + self.rng.randrange(1, 10**10)
        os.utime(victim, ns=(later, later))
        return f"touch {victim.name}"

    @staticmethod
    def field(path: Path, name: str) -> str:
        """The raw value of a top-level front-matter line ``name: value`` of a file."""
        prefix = f"{name}: "
        return next(
            line[len(prefix) :]
            for line in path.read_text("utf-8").splitlines()
            if line.startswith(prefix)
        )
