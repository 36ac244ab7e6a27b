#!/usr/bin/env python3
"""Build benchmark: cold, warm and incremental builds against two floors, paired in one run.

For each corpus size (made with ../shared/tools/make_corpus.py from the real
corpus, then linked into a working copy the benchmark may change) it times,
each as a separate process started here:

  libyaml floor  reading every article file and parsing its front matter with
                 libyaml (CSafeLoader) in one process, nothing else
  stat floor     `find DIR -printf '%s %T@\\n'`: listing and stat-ing the tree,
                 the least any change check can do
  cold           `feedpub build` with no state file and an empty output folder
  warm           the same build again, nothing changed
  touch+add      one file touched (mtime only) and one genuinely new story added
                 (new URL, the newest date, an existing topic and provider: it
                 must reach the site, topic and provider feeds, which is checked)
  edit 100       the titles of 100 files changed
  delete 1       one published story removed

The package's bytecode is compiled first, as an install does. Every round
measures each case once, right beside its floor (the libyaml
floor before and after each cold build, the stat floor before each other
case), and an untimed build puts the state back in step with the files
before the next case. Figures are medians over the rounds with their
min–max; the ratio is the case's median over the median of the floors timed
beside it, with the min–max of the per-pair ratios, then the build's median
CPU time (user + system, workers included: steadier than wall time on a
shared machine). Peak RSS is the largest process
(the build or one of its workers) over the rounds.

    python bench/build.py                               # 20k and 100k articles
    python bench/build.py --sizes 20000 --rounds 5
    python bench/build.py --sizes 300000 --rounds 1 --cases warm,touch+add
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from corpora import (  # bench/corpora.py, beside this script
    add_corpus_options,
    check_corpus_options,
    make_corpus,
)

REPO = Path(__file__).resolve().parent.parent

LIBYAML_FLOOR = r"""
import os, sys, yaml
for entry in sorted(os.scandir(sys.argv[1]), key=lambda e: e.name):
    with open(entry.path, "rb") as f:
        text = f.read().decode("utf-8-sig")
    yaml.load(text.split("---", 2)[1], Loader=yaml.CSafeLoader)
"""
CASES = ("cold", "warm", "touch+add", "edit 100", "delete 1")
EDITS = 100


@dataclass
class Figures:
    """The timings of one case over the rounds, with the floor timed beside each."""

    seconds: list[float] = field(default_factory=list)
    floors: list[float] = field(default_factory=list)  # the paired floor of each round
    cpu: list[float] = field(default_factory=list)  # user + system, workers included
    rss_kib: int = 0


def run(argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB, the largest of the process and its children) and CPU
    seconds (user + system, its children included) of a command."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    err = process.stderr.read().decode() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode not in (0, 3):
        sys.exit(f"{' '.join(argv)} failed ({process.returncode}):\n{err}")
    return seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def working_copy(corpus: Path, work: Path) -> Path:
    """Hard links to the corpus: cheap to make, and the benchmark only ever replaces
    a file (write aside, rename over), never writes into one, so the corpus stays intact."""
    copy = work / f"{corpus.name}-work"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    for entry in os.scandir(corpus):
        os.link(entry.path, copy / entry.name)
    return copy


def replace_text(path: Path, text: str) -> None:
    replace_bytes(path, text.encode("utf-8"))


def replace_bytes(path: Path, data: bytes) -> None:
    aside = path.with_name(f".{path.name}.new")
    aside.write_bytes(data)
    os.replace(aside, path)


def touch(path: Path) -> None:
    """A new mtime, the same bytes: a copy renamed over the file. ``os.utime`` would
    change the inode the working copy shares with the corpus (a hard link)."""
    replace_bytes(path, path.read_bytes())


def published_files(folder: Path) -> list[Path]:
    """The files a build publishes (not drafts), sorted."""
    found = []
    for path in sorted(folder.iterdir()):
        text = path.read_text(encoding="utf-8-sig")
        if re.search(r"^published: false\s*$", text, re.M) is None:
            found.append(path)
    return found


def new_story(template: str, round_: int) -> tuple[str, str]:
    """A story no build has seen: its own URL and title, dated an hour ago (newer than
    anything in the corpus, not in the future); the template's topics and provider."""
    url = f"https://news.example.com/bench/new-story-{os.getpid()}-{round_}"
    when = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = re.sub(
        r"^title: .*$", f'title: "A new story, round {round_}"', template, count=1, flags=re.M
    )
    for name in ("webUrl", "originalUrl"):
        text = re.sub(rf"^{name}: .*$", f'{name}: "{url}"', text, count=1, flags=re.M)
    text = re.sub(
        r"^publishedDateTime: .*$", f"publishedDateTime: {when}", text, count=1, flags=re.M
    )
    text = re.sub(r"^quality: .*$", "quality: 120", text, count=1, flags=re.M)
    if url not in text:
        sys.exit("the template article has no webUrl or originalUrl to rewrite")
    return text, url


def check_published(out: Path, url: str) -> None:
    """The new story must be in the site feed, a topic feed and a provider feed."""
    site = (out / "rss.xml").read_text(encoding="utf-8")
    topics = [p for p in (out / "topics").glob("*/rss.xml") if url in p.read_text("utf-8")]
    providers = [p for p in (out / "providers").glob("*/rss.xml") if url in p.read_text("utf-8")]
    if url not in site or not topics or not providers:
        sys.exit(
            f"the added story {url} is missing from the feeds (site: {url in site}, "
            f"topics: {len(topics)}, providers: {len(providers)}): the benchmark measures nothing"
        )


@dataclass
class Site:
    """One corpus size: its working copy, build command and measurements."""

    corpus: Path
    out: Path
    state: Path
    build: list[str]
    published: list[Path]
    figures: dict[str, Figures]
    floor_yaml: list[float] = field(default_factory=list)
    floor_stat: list[float] = field(default_factory=list)

    def libyaml_floor(self) -> float:
        seconds = run([sys.executable, "-c", LIBYAML_FLOOR, str(self.corpus)])[0]
        self.floor_yaml.append(seconds)
        return seconds

    def stat_floor(self) -> float:
        seconds = run(["find", str(self.corpus), "-printf", "%s %T@\\n"])[0]
        self.floor_stat.append(seconds)
        return seconds

    def timed(self, case: str, floor: float) -> None:
        seconds, rss, cpu = run(self.build)
        figures = self.figures.setdefault(case, Figures())
        figures.seconds.append(seconds)
        figures.cpu.append(cpu)
        figures.floors.append(floor)
        figures.rss_kib = max(figures.rss_kib, rss)

    def incremental(self, case: str, change: Callable[[], Callable[[], None]]) -> None:
        """Time one build after ``change``; undo it and build (untimed) to catch up."""
        floor = self.stat_floor()
        undo = change()
        try:
            self.timed(case, floor)
        finally:
            undo()
        run(self.build)


def bench_round(site: Site, round_: int, cases: tuple[str, ...]) -> None:
    files = site.published
    if "cold" in cases or not site.state.exists():
        before = site.libyaml_floor()
        shutil.rmtree(site.out, ignore_errors=True)
        for suffix in ("", "-wal", "-shm"):  # a stale WAL file must not outlive its state
            site.state.with_name(site.state.name + suffix).unlink(missing_ok=True)
        if "cold" in cases:
            site.timed("cold", before)
            site.figures["cold"].floors[-1] = (before + site.libyaml_floor()) / 2
        else:
            run(site.build)
    if "warm" in cases:
        site.timed("warm", site.stat_floor())

    def touch_add() -> Callable[[], None]:
        touch(files[(len(files) // 2 + round_) % len(files)])
        text, url = new_story(files[round_ % len(files)].read_text("utf-8"), round_)
        added = site.corpus / f"zz-bench-new-{round_}.md"
        added.write_text(text, encoding="utf-8")
        pending.append(url)
        return added.unlink

    def edit() -> Callable[[], None]:
        step = max(1, len(files) // EDITS)
        chosen = files[round_ % step :: step][:EDITS]
        originals = [(path, path.read_text("utf-8")) for path in chosen]
        for path, text in originals:
            edited = re.sub(
                r'^(title: ".*)"(\r?)$', rf'\1 (edited {round_})"\2', text, count=1, flags=re.M
            )
            replace_text(path, edited)

        def undo() -> None:
            for path, text in originals:
                replace_text(path, text)

        return undo

    def delete() -> Callable[[], None]:
        victim = files[(len(files) // 3 + round_) % len(files)]
        aside = site.corpus.parent / f".{victim.name}.deleted"
        os.replace(victim, aside)
        return lambda: os.replace(aside, victim)

    pending: list[str] = []
    if "touch+add" in cases:
        floor = site.stat_floor()
        undo = touch_add()
        try:
            site.timed("touch+add", floor)
            check_published(site.out, pending[-1])
        finally:
            undo()
        run(site.build)
    if "edit 100" in cases:
        site.incremental("edit 100", edit)
    if "delete 1" in cases:
        site.incremental("delete 1", delete)


def span(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} ({min(values):.3f}–{max(values):.3f})"


def report(size: int, site: Site) -> None:
    rows = [("libyaml floor", site.floor_yaml, None, "")]
    if site.floor_stat:
        rows.append(("stat floor", site.floor_stat, None, ""))
    for case in CASES:
        figures = site.figures.get(case)
        if figures is None or not figures.seconds:
            continue
        floor_name = "libyaml" if case == "cold" else "stat"
        ratio = statistics.median(figures.seconds) / statistics.median(figures.floors)
        pairs = [s / f for s, f in zip(figures.seconds, figures.floors, strict=True)]
        text = (
            f"{ratio:6.2f}× {floor_name} (pairs {min(pairs):.2f}–{max(pairs):.2f});"
            f" cpu {statistics.median(figures.cpu):.2f} s"
        )
        rows.append((case, figures.seconds, figures.rss_kib, text))
    for name, values, rss, ratio_text in rows:
        if not values:
            continue
        memory = f"{rss / 1024:6.0f} MiB" if rss else ""
        print(f"{size:>8}  {name:<14} {span(values):<26} {memory:>10}  {ratio_text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000,100000", help="corpus sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every case (default 5)")
    parser.add_argument("--cases", default=",".join(CASES), help="cases to run: " + ",".join(CASES))
    add_corpus_options(parser, Path("/tmp/feedpub-bench"))
    args = parser.parse_args()
    cases = tuple(c.strip() for c in args.cases.split(","))
    unknown = set(cases) - set(CASES)
    if unknown:
        sys.exit(f"unknown cases: {', '.join(sorted(unknown))}")
    check_corpus_options(args)
    # Timed as installed: pip compiles the package's bytecode once, at install time; a
    # checkout run with PYTHONDONTWRITEBYTECODE set would compile every module per build.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "feedpub")], check=True)
    print(f"{os.cpu_count()} cores; {args.rounds} rounds; medians (min–max) in seconds")
    print(f"{'articles':>8}  {'case':<14} {'seconds':<26} {'peak RSS':>10}  ratio to its floor")
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = working_copy(make_corpus(size, args.work, args.source), args.work)
        site_dir = args.work / f"site-{size}"
        shutil.rmtree(site_dir, ignore_errors=True)
        config = args.work / f"config-{size}.toml"
        config.write_text(
            f'title = "Bench"\nbase_url = "https://bench.example/feeds/"\n'
            f'source = ["{corpus}"]\nout = "{site_dir}/feeds"\n'
            f'state = "{site_dir}/state.sqlite"\n'
        )
        build = [sys.executable, "-m", "feedpub", "build", "--config", str(config), "--quiet"]
        site = Site(
            corpus,
            site_dir / "feeds",
            site_dir / "state.sqlite",
            build,
            published_files(corpus),
            {},
        )
        for round_ in range(args.rounds):
            bench_round(site, round_, cases)
        report(size, site)
        shutil.rmtree(corpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
