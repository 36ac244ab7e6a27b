"""An incremental build writes exactly what a cold build of the same files writes.

Random sequences of changes (seeded, so a failure replays) are applied to a
small site; after each step the site is built incrementally (one state file
and one output folder kept across the steps) and cold (a fresh state file and
a fresh output folder), and every output file must have the same bytes.

The one exception, and why the changes below never edit a file in place once
it has been built: Atom ``<updated>`` and JSON Feed ``date_modified`` of an
edited story are the date of the build that first saw the edit, kept in the
state file (store/changes.py); a cold build has no such record and cannot
reproduce them. So stories are edited before the first build only (the
initial files differ from one another in every field), and afterwards the
changes are adds (new stories, and new files that repeat an existing story's
URL), deletes, renames and touches (mtime only), none of which dates a story.

For the same reason each provider keeps one name: feeds show a provider by
the name the taxonomy picks among its stories' spellings, so adding or
removing a story that spells it differently changes what every story of that
provider shows, which the state dates as an edit of each.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from feedpub.config import Config
from feedpub.lock import LOCK_NAME
from feedpub.publish import build
from feedpub.report import BuildReport
from tests.changingsite import ChangingSite
from tests.conftest import BASE_URL, article_text
from tests.test_incremental import NOW

TOPICS = ["AI", "Space", "Climate", "Robots", "Energy"]
STEPS = 10


def story(rng: random.Random, number: int, url: str | None = None) -> str:
    month = rng.randrange(1, 6)
    provider = rng.randrange(4)
    return article_text(
        title=f"Story {number} {rng.choice(['', 'again', 'ünïcode', '& more'])}".strip(),
        url=url or f"https://a.example/{number}",
        date=f"2024-{month:02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z",
        topics=rng.sample(TOPICS, rng.randrange(1, 3)),
        domain=f"p{provider}.example",
        provider=f"Provider {provider}",  # one name per domain, as on real sites
        quality=rng.randrange(-1, 100),
        published=rng.random() > 0.1,
        excerpt=f"Excerpt {rng.random()}",
    )


def output_of(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


class Site(ChangingSite):
    """The article folder of a site and the changes a step may make to it."""

    def __init__(self, news: Path, rng: random.Random) -> None:
        super().__init__(rng)
        self.news = news
        news.mkdir(parents=True)
        for _ in range(25):
            self.add()

    def files(self) -> list[Path]:
        return sorted(self.news.glob("*.md"))

    def new_path(self) -> Path:
        return self.news / f"story-{self.count}.md"

    def story(self, number: int, url: str | None = None) -> str:
        return story(self.rng, number, url)

    def step(self) -> str:
        changes: list[Callable[[], str]] = [
            self.add,
            self.add,
            self.add_duplicate,
            self.delete,
            self.rename,
            self.touch,
        ]
        return ", ".join(self.rng.choice(changes)() for _ in range(self.rng.randrange(1, 4)))


def site_config(root: Path, source: Path, name: str) -> Config:
    return Config(
        sources=(source,),
        out=root / name / "out",
        base_url=BASE_URL,
        state=root / name / "state.sqlite",
        max_items=8,
        allow_shrink=True,  # a random step may well remove half of a small feed
    )


# What differs between the reports of two builds of the same files: what each wrote.
WRITING = {
    "feeds_rendered",
    "files_written",
    "files_unchanged",
    "files_removed",
    "nothing_changed",
    "changed_feeds",
    "incremental",
}


def told(report: BuildReport) -> dict[str, object]:
    return {k: v for k, v in report.to_dict().items() if k not in WRITING}


@pytest.mark.parametrize("seed", range(6))
def test_incremental_builds_write_what_cold_builds_write(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    site = Site(tmp_path / "site" / "_news", rng)
    incremental = site_config(tmp_path, tmp_path / "site", "incremental")
    history = ["first build"]
    build(incremental, NOW, workers=1)
    applied = 0  # steps applied to the last build's record rather than built in full
    for _ in range(STEPS):
        history.append(site.step())
        report = build(incremental, NOW, workers=1)
        applied += report.incremental
        cold = site_config(tmp_path, tmp_path / "site", "cold")
        shutil.rmtree(tmp_path / "cold", ignore_errors=True)
        cold_report = build(cold, NOW, workers=1)
        assert not cold_report.incremental
        expected = output_of(cold.out)
        got = output_of(incremental.out)
        assert sorted(got) == sorted(expected), history
        differing = [path for path in expected if got[path] != expected[path]]
        assert differing == [], history
        assert told(report) == told(cold_report), history
    # Merged duplicates and new topics take the full way; most steps need not.
    assert applied >= STEPS // 3, history
