"""Changes applied to the last build's record write what grouping every story again writes.

Two copies of one history: after each random step the site is built twice
from the same files, once as a cron build does (changed files applied to the
record where they can be, incremental.py) and once with ``full=True`` (every
story grouped again), each with its own state file and output folder. Both
states see the same edits at the same ``now``, so even the modified dates of
edited stories must agree: every output byte and every figure of the report.

The steps cover what the record must handle or refuse: edits of titles and
quality, drafts published and withdrawn, broken files and their repair, files
with notes, provider logos and names, stories sharing a date, scheduled
stories, duplicates, new topics and providers, renames, deletions, touches,
and a second source folder.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from feedpub.config import Config, FeedPolicy
from feedpub.publish import build
from tests.changingsite import ChangingSite
from tests.conftest import BASE_URL, article_text
from tests.test_incremental import NOW
from tests.test_incremental_equivalence import output_of, told

TOPICS = ["AI", "Space", "Climate", "Robots", "Energy", "ai", "SPACE"]  # two spellings of two
STEPS = 14


class Site(ChangingSite):
    """Two sources (a site root with a taxonomy, and a plain folder) and the steps on them."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        super().__init__(rng)
        self.news = root / "site" / "_news"
        self.extra = root / "extra"
        self.news.mkdir(parents=True)
        self.extra.mkdir()
        data = root / "site" / "_data"
        (data / "topics").mkdir(parents=True)
        (data / "topics" / "ai.yaml").write_text("_id: artificial-intelligence\nname: AI\n")
        (data / "organizations").mkdir()
        (data / "organizations" / "p0.md").write_text(
            "---\nname: Provider Zero Inc.\ndomain: p0.example\n---\n"
        )
        for _ in range(30):
            self.add()

    def files(self) -> list[Path]:
        return sorted([*self.news.glob("*.md"), *self.extra.glob("*.md")])

    def story(
        self,
        number: int,
        url: str | None = None,
        *,
        date: str | None = None,
        topics: list[str] | None = None,
        provider: int | None = None,
    ) -> str:
        rng = self.rng
        provider = rng.randrange(4) if provider is None else provider
        when = date or (
            f"2024-{rng.randrange(1, 6):02d}-{rng.randrange(1, 29):02d}T"
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        )
        chosen = topics or rng.sample(TOPICS, rng.randrange(1, 3))
        lines = [
            "---",
            "category: news",
            f'title: "Story {number} {rng.choice(["", "again", "ünïcode", "&amp; more"])}"',
            f'excerpt: "Excerpt {rng.random()}"',
            f"publishedDateTime: {when}",
            f'webUrl: "{url or f"https://a.example/{number}"}"',
            f"type: {rng.choice(['article', 'article', 'video'])}",
            f"quality: {rng.randrange(-1, 100)}",
            f"published: {'false' if rng.random() < 0.1 else 'true'}",
            "provider:",
            f'  name: "{rng.choice([f"Provider {provider}", f"Provider {provider}", "P"])}"',
            f"  domain: p{provider}.example",
        ]
        if rng.random() < 0.3:
            logo = rng.choice(["a", "b"])
            lines += ["  images:", f"    - url: https://p{provider}.example/{logo}.png"]
        if rng.random() < 0.15:
            lines += ["images:", "    - width: 10"]  # an image without a URL: a note
        lines.append("topics:")
        lines += [f'  - "{t}"' for t in chosen]
        lines.append("---")
        return "\n".join(lines) + "\n"

    def _write(self, path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")

    def new_path(self) -> Path:
        folder = self.news if self.rng.random() < 0.8 else self.extra
        return folder / f"story-{self.count}.md"

    def _new(self) -> Path:
        self.count += 1
        return self.new_path()

    def add_same_date(self) -> str:
        original = self.rng.choice(self.files())
        date = self.field(original, "publishedDateTime")
        path = self._new()
        self._write(path, self.story(self.count, date=date))
        return f"add {path.name} dated as {original.name}"

    def add_scheduled(self) -> str:
        path = self._new()
        self._write(path, self.story(self.count, date="2024-07-01T00:00:00Z"))
        return f"add scheduled {path.name}"

    def add_new_topic_or_provider(self) -> str:
        path = self._new()
        if self.rng.random() < 0.5:
            self._write(path, self.story(self.count, topics=[f"Topic {self.count}"]))
        else:
            self._write(path, self.story(self.count, provider=10 + self.count))
        return f"add {path.name} with a new feed"

    def edit(self) -> str:
        victim = self.rng.choice(self.files())
        number = int(victim.stem.split("-")[-1]) if victim.stem[-1].isdigit() else 0
        self._write(victim, self.story(number, url=f"https://a.example/{number}"))
        return f"edit {victim.name}"

    def requalify(self) -> str:
        victim = self.rng.choice(self.files())
        lines = victim.read_text("utf-8").splitlines()
        lines = [
            f"quality: {self.rng.randrange(100)}" if x.startswith("quality:") else x for x in lines
        ]
        self._write(victim, "\n".join(lines) + "\n")
        return f"requalify {victim.name}"

    def toggle_draft(self) -> str:
        victim = self.rng.choice(self.files())
        text = victim.read_text("utf-8")
        if "published: true" in text:
            text = text.replace("published: true", "published: false")
        else:
            text = text.replace("published: false", "published: true")
        self._write(victim, text)
        return f"toggle {victim.name}"

    def break_one(self) -> str:
        victim = self.rng.choice(self.files())
        self._write(victim, victim.read_text("utf-8").replace("title:", "title: [", 1))
        return f"break {victim.name}"

    def step(self) -> str:
        changes: list[Callable[[], str]] = [
            self.add,
            self.add,
            self.add_duplicate,
            self.add_same_date,
            self.add_scheduled,
            self.add_new_topic_or_provider,
            self.edit,
            self.edit,
            self.requalify,
            self.toggle_draft,
            self.break_one,
            self.delete,
            self.rename,
            self.touch,
        ]
        return ", ".join(self.rng.choice(changes)() for _ in range(self.rng.randrange(1, 3)))


def config_for(root: Path, name: str, settings: str = "plain") -> Config:
    config = Config(
        sources=(root / "site", root / "extra"),
        out=root / name / "out",
        base_url=BASE_URL,
        state=root / name / "state.sqlite",
        max_items=6,
        allow_shrink=True,
    )
    if settings == "drafts and quality":
        return replace(config, include_drafts=True, min_quality=30)
    if settings == "policies":
        return replace(
            config,
            topics={"Space": FeedPolicy(max_items=2), "climate": FeedPolicy(enabled=False)},
            providers={"p1.example": FeedPolicy(min_quality=50, title="One")},
        )
    return config


@pytest.mark.parametrize(
    ("seed", "settings"),
    [(seed, "plain") for seed in range(6)]
    + [(seed, "drafts and quality") for seed in range(6, 9)]
    + [(seed, "policies") for seed in range(9, 12)],
)
def test_applied_changes_write_what_grouping_everything_again_writes(
    tmp_path: Path, seed: int, settings: str
) -> None:
    site = Site(tmp_path, random.Random(seed))
    applied_config = config_for(tmp_path, "applied", settings)
    full_config = config_for(tmp_path, "full", settings)
    history = ["first build"]
    build(applied_config, NOW, workers=1)
    build(full_config, NOW, workers=1, full=True)
    applied = 0
    for _ in range(STEPS):
        history.append(site.step())
        report = build(applied_config, NOW, workers=1)
        expected = build(full_config, NOW, workers=1, full=True)
        applied += report.incremental
        assert not expected.incremental
        assert output_of(applied_config.out) == output_of(full_config.out), history
        assert told(report) == told(expected), history
    assert applied >= 3, history


def stamps(site: Site) -> dict[Path, tuple[int, bytes]]:
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in site.files()}


def test_a_build_told_which_files_changed_writes_what_a_listing_finds(tmp_path: Path) -> None:
    """``changed`` (a watcher's events) stands in for listing every folder."""
    site = Site(tmp_path, random.Random(7))
    told_config = config_for(tmp_path, "told")
    listed_config = config_for(tmp_path, "listed")
    build(told_config, NOW, workers=1)
    build(listed_config, NOW, workers=1)
    before = stamps(site)
    history = []
    for _ in range(8):
        history.append(site.step())
        after = stamps(site)
        changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
        before = after
        report = build(told_config, NOW, workers=1, changed=changed)
        expected = build(listed_config, NOW, workers=1)
        assert output_of(told_config.out) == output_of(listed_config.out), history
        assert told(report) == told(expected), history
    # The record of what was listed stays true: a build that lists everything finds no change.
    assert build(told_config, NOW, workers=1).skipped


def test_a_change_outside_the_listed_folders_lists_everything(tmp_path: Path) -> None:
    site = Site(tmp_path, random.Random(3))
    config = config_for(tmp_path, "told")
    build(config, NOW, workers=1)
    folder = site.news / "2024"
    folder.mkdir()
    new = folder / "nested.md"
    new.write_text(site.story(999, topics=["AI"], provider=1), encoding="utf-8")
    report = build(config, NOW, workers=1, changed=[new])
    assert report.files_read == len(site.files()) + 1  # the nested file was listed
    listed = config_for(tmp_path, "listed")
    expected = build(listed, NOW, workers=1)
    assert output_of(config.out) == output_of(listed.out)
    assert told(report) == told(expected)


def test_a_feed_left_with_no_story_above_its_floor_is_built_the_full_way(tmp_path: Path) -> None:
    """An empty feed is dated by the site's newest story: a change that empties one is not
    applied story by story, and the feed comes out as a full build makes it."""
    news = tmp_path / "site" / "_news"
    news.mkdir(parents=True)
    for number, (topic, quality) in enumerate([("Space", 50), ("AI", 60), ("AI", 70)]):
        (news / f"s{number}.md").write_text(
            article_text(
                title=f"Story {number}",
                url=f"https://a.example/{number}",
                date=f"2024-05-0{number + 1}T10:00:00Z",
                topics=[topic],
                quality=quality,
            ),
            encoding="utf-8",
        )
    applied, full = (
        replace(config_for(tmp_path, name), sources=(tmp_path / "site",), min_quality=30)
        for name in ("applied", "full")
    )
    build(applied, NOW, workers=1)
    build(full, NOW, workers=1, full=True)
    space = news / "s0.md"
    space.write_text(space.read_text("utf-8").replace("quality: 50", "quality: 10"), "utf-8")
    report = build(applied, NOW, workers=1)
    expected = build(full, NOW, workers=1, full=True)
    assert not report.incremental
    assert output_of(applied.out) == output_of(full.out)
    assert told(report) == told(expected)
    assert "<item>" not in (applied.out / "topics" / "space" / "rss.xml").read_text("utf-8")
