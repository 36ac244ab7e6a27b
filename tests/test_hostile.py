"""Broken and hostile input: each bad file named, nothing valid lost, nothing escapes.

The big test mixes a real site (the shared Smartable corpus, else the bundled
example) with every fixture of ``tests/data/broken`` and ``tests/data/hostile``
and with files only a test can make, builds it with the command, in a child
process (a crash of the YAML parser would be a crash, not a test error), and
checks the summary, the feeds, and everything around the output folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
import yaml
from lxml import etree, html

import feedpub
from feedpub.config import Config
from feedpub.model import Article
from feedpub.publish import build
from feedpub.selection import canonical_url, select_articles
from feedpub.sources import SourceFile, load_file
from tests.conftest import BASE_URL, CORPUS, REPO, article_text
from tests.feedcheck import check_feed_folder

DATA = Path(__file__).parent / "data"
BROKEN = DATA / "broken"
HOSTILE = DATA / "hostile"
EXPECTED = tomllib.loads((BROKEN / "expected.toml").read_text(encoding="utf-8"))
SAFE_FOLDER = re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}$")
WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\.|$)")
CONTENT_TAGS = {"a", "b", "blockquote", "br", "em", "i", "img", "li", "ol", "p", "strong", "ul"}


def base_site() -> Path:
    corpus = CORPUS / "powerapps"
    return corpus if (corpus / "_news").is_dir() else REPO / "example"


def front_matter(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("---", 2)[1])
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True)
class Expected:
    files: int
    published_urls: frozenset[str]
    drafts: int
    duplicates: int
    rejected: dict[str, tuple[int | None, str]]  # file name → (line, reason)


@dataclass(frozen=True)
class Build:
    returncode: int
    stderr: str
    report: dict[str, object]
    out: Path
    root: Path
    cwd: Path
    before: dict[str, tuple[int, int]]
    expected: Expected
    seconds: float


def snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every file and link under root but ``skip``: size and mtime, links not followed."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if Path(folder, d) != skip]
        for name in dirnames + filenames:
            info = os.lstat(Path(folder, name))
            found[os.path.relpath(Path(folder, name), root)] = (info.st_size, info.st_mtime_ns)
    return found


def make_mixed_site(root: Path) -> tuple[Path, Expected]:
    """A copy of the base site, plus every fixture and the files only a test can make."""
    base = base_site()
    site = root / "site"
    shutil.copytree(base, site, symlinks=True)
    news = site / "_news"
    published: set[str] = set()
    published_files = drafts = 0
    for path in sorted(news.glob("*.md")):
        data = front_matter(path)
        if data.get("published") is False:
            drafts += 1
        else:
            published_files += 1
            published.add(canonical_url(str(data.get("webUrl") or data["originalUrl"])))
    base_files = len(list(news.glob("*.md")))
    shutil.copytree(BROKEN, news / "broken")
    shutil.copytree(HOSTILE, news / "hostile")
    for path in sorted(HOSTILE.glob("*.md")):
        article = load_file(SourceFile(path, path.name), 1 << 20).article
        assert article is not None, f"{path.name} must be accepted"
        published.add(canonical_url(article.url))
    rejected = {
        name: (entry.get("line"), str(entry["message"])) for name, entry in EXPECTED.items()
    }
    extra = news / "made-by-the-test"
    extra.mkdir()
    with open(extra / "huge.md", "wb") as f:
        f.truncate(64 << 20)
    rejected["huge.md"] = (
        None,
        "file is 67,108,864 bytes, over the limit of 1,048,576 (max_file_bytes)",
    )
    made = 1
    if hasattr(os, "mkfifo"):
        os.mkfifo(extra / "pipe.md")
        rejected["pipe.md"] = (None, "not a regular file")
        made += 1
    if Path("/dev/zero").exists():
        (extra / "zero.md").symlink_to("/dev/zero")
        rejected["zero.md"] = (None, "not a regular file")
        made += 1
    if os.name == "posix":
        name = os.fsdecode(b"2024-06-20-not-utf8-\xff.md")
        (extra / name).write_text(article_text(url="https://hostile.example/not-utf8-name"))
        published.add("https://hostile.example/not-utf8-name")
        made += 1
    files = base_files + len(EXPECTED) + len(list(HOSTILE.glob("*.md"))) + made
    duplicates = published_files - len(published & _base_urls(base))
    return site, Expected(files, frozenset(published), drafts, duplicates, rejected)


def _base_urls(base: Path) -> set[str]:
    urls = set()
    for path in (base / "_news").glob("*.md"):
        data = front_matter(path)
        if data.get("published") is not False:
            urls.add(canonical_url(str(data.get("webUrl") or data["originalUrl"])))
    return urls


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = tmp_path_factory.mktemp("hostile")
    site, expected = make_mixed_site(root)
    (root / "sentinel").mkdir()
    (root / "sentinel" / "keep.txt").write_text("must stay\n")
    cwd = root / "cwd"
    cwd.mkdir()
    out = root / "out"
    before = snapshot(root, out)
    started = time.monotonic()
    command = [sys.executable, "-m", "feedpub", "build", "--source", str(site)]
    command += ["--out", str(out), "--base-url", BASE_URL, "--max-items", "1000", "--json"]
    run = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        check=False,
    )
    seconds = time.monotonic() - started
    report = json.loads(run.stdout) if run.stdout.startswith("{") else {}
    return Build(run.returncode, run.stderr, report, out, root, cwd, before, expected, seconds)


def test_the_build_finishes_with_exit_code_3_and_the_counts_add_up(mixed: Build) -> None:
    assert mixed.returncode == 3, mixed.stderr[-3000:]
    assert mixed.seconds < 60  # a few seconds; generous for slow machines
    r = mixed.report
    rejected = r["rejected"]
    assert isinstance(rejected, list)
    assert r["files_read"] == mixed.expected.files
    parts = [r["published"], r["drafts"], r["duplicates"], len(rejected)]
    assert r["files_read"] == sum(int(str(n)) for n in parts)
    assert r["drafts"] == mixed.expected.drafts
    assert r["duplicates"] == mixed.expected.duplicates
    assert r["published"] == len(mixed.expected.published_urls)

    def counted(count: object, noun: str) -> str:
        return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

    summary = (
        f"{counted(r['files_read'], 'file')} read: {r['published']} published, "
        f"{counted(r['drafts'], 'draft')} skipped, {counted(r['duplicates'], 'duplicate')} "
        f"merged, {len(rejected)} rejected"
    )
    assert summary in mixed.stderr


def test_every_bad_file_is_named_with_its_reason_on_stderr_and_in_json(mixed: Build) -> None:
    rejected = mixed.report["rejected"]
    assert isinstance(rejected, list)
    by_name = {Path(r["path"]).name: (r["line"], r["reason"]) for r in rejected}
    expected = mixed.expected.rejected
    assert by_name == expected
    lines = [line for line in mixed.stderr.splitlines() if line.startswith("rejected: ")]
    assert len(lines) == len(expected)
    for r in rejected:
        where = f"{r['path']}:{r['line']}" if r["line"] is not None else r["path"]
        assert f"rejected: {where}: {r['reason']}" in lines


def test_every_valid_article_is_in_the_site_feed(mixed: Build) -> None:
    doc = json.loads((mixed.out / "feed.json").read_text(encoding="utf-8"))
    urls = {canonical_url(item["url"]) for item in doc["items"]}
    assert urls == mixed.expected.published_urls


def test_nothing_ran_and_nothing_outside_the_output_folder_changed(mixed: Build) -> None:
    assert not (mixed.cwd / "feedpub-pwned").exists()
    assert snapshot(mixed.root, mixed.out) == mixed.before
    assert (mixed.root / "sentinel" / "keep.txt").read_text() == "must stay\n"


def feed_folders(out: Path) -> Iterator[str]:
    yield ""
    for kind in ("topics", "providers"):
        for folder in sorted((out / kind).iterdir()):
            yield folder.relative_to(out).as_posix()


def test_every_feed_written_parses_and_keeps_the_rules(mixed: Build) -> None:
    folders = list(feed_folders(mixed.out))
    assert len(folders) > 20
    for folder in folders:
        check_feed_folder(mixed.out, folder, BASE_URL)
        for name in ("rss.xml", "atom.xml"):
            parsed = feedparser.parse((mixed.out / folder / name).read_bytes())
            assert not parsed.bozo, (folder, name, parsed.get("bozo_exception"))
        page = (mixed.out / folder / "index.html").read_text(encoding="utf-8")
        assert html.document_fromstring(page) is not None
    etree.fromstring((mixed.out / "index.opml").read_bytes())


def test_every_folder_name_is_safe_distinct_and_inside_the_output(mixed: Build) -> None:
    out = mixed.out.resolve()
    for kind in ("topics", "providers"):
        names = [p.name for p in (out / kind).iterdir()]
        for name in names:
            assert SAFE_FOLDER.match(name) and ".." not in name, name
            assert not WINDOWS_DEVICES.match(name), name
            assert (out / kind / name).resolve().parent == out / kind
        assert len({n.casefold() for n in names}) == len(names)
    topics = {p.name for p in (out / "topics").iterdir()}
    # ../../x → x, /etc → etc, CON → topic-con, 😀 → a hash; café and CAFÉ are one.
    assert {"x", "etc", "topic-con", "nul-txt", "cafe", "security"} <= topics
    assert any(re.fullmatch(r"cafe-[0-9a-f]{8}", t) for t in topics)  # "cafe" ≠ "café"
    assert "etc-passwd" in {p.name for p in (out / "providers").iterdir()}


def _contents(out: Path) -> Iterator[tuple[str, str]]:
    """Every HTML body in every feed: (where, markup)."""
    for folder in feed_folders(out):
        where = out / folder
        doc = json.loads((where / "feed.json").read_text(encoding="utf-8"))
        for item in doc["items"]:
            yield f"{folder}/feed.json", item["content_html"]
        rss = etree.fromstring((where / "rss.xml").read_bytes())
        for node in rss.iter("{http://purl.org/rss/1.0/modules/content/}encoded", "description"):
            yield f"{folder}/rss.xml", node.text or ""
        atom = etree.fromstring((where / "atom.xml").read_bytes())
        for node in atom.iter("{http://www.w3.org/2005/Atom}content"):
            yield f"{folder}/atom.xml", node.text or ""


def test_nothing_dangerous_reaches_any_format(mixed: Build) -> None:
    for where, markup in _contents(mixed.out):
        if not markup.strip():
            continue
        for element in html.fragment_fromstring(markup, create_parent="div").iter():
            if element.tag == "div" and element.getparent() is None:
                continue
            allowed = CONTENT_TAGS | ({"iframe"} if where.endswith(".json") else set())
            assert element.tag in allowed, (where, element.tag)
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (where, name)
                if name in ("href", "src"):
                    assert re.match(r"https?://", value), (where, name, value)
                    assert "evil.example" not in value, (where, value)
    own_script = (Path(feedpub.__file__).parent / "static" / "copy.js").read_text().strip()
    for page in mixed.out.rglob("*.html"):
        for element in html.document_fromstring(page.read_bytes()).iter():
            assert element.tag not in ("iframe", "object", "embed", "base"), page
            if element.tag == "script":  # only feedpub's own copy button, inline and fixed
                assert (element.text or "").strip() == own_script, page
                assert not element.attrib, page
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (page, name)
                if name in ("href", "src"):
                    # Absolute http(s), or relative within the site: never another scheme.
                    scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", value)
                    assert scheme is None or scheme.group(1) in ("http", "https"), (page, value)


def test_hostile_text_is_escaped_exactly_once(mixed: Build) -> None:
    title = "<script>alert('title')</script> Tom & Jerry ]]> <b>bold</b> & more"
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((mixed.out / name).read_bytes())
        assert title in [e.title for e in parsed.entries]
        assert "Launch \U0001f680 day, and a literal \\ud83d\\ude80" in [
            e.title for e in parsed.entries
        ]
    doc = json.loads((mixed.out / "feed.json").read_text(encoding="utf-8"))
    item = next(i for i in doc["items"] if i["title"] == title)
    assert item["authors"] == [{"name": "<b>Hostile</b> & Co", "url": "https://hostile.example/"}]
    assert "&lt;script&gt;alert(&#x27;related title&#x27;)" in item["content_html"]
    assert '<iframe src="https://www.youtube.com/embed/abc123"></iframe>' in item["content_html"]


# --------------------------------------------------------------------------- memory

MEASURE = """
import json, resource, sys
from pathlib import Path
from feedpub.sources import SourceFile, load_file
from feedpub.model import Article
path, limit = Path(sys.argv[1]), int(sys.argv[2])
scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
result = load_file(SourceFile(path, path.name), limit)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
print(json.dumps({"rejection": None if result.rejection is None else result.rejection.reason,
                  "grew": after - before}))
"""
MIB = 1 << 20


def peak_growth(path: Path, limit: int) -> tuple[str | None, int]:
    """Load one file in a fresh process; its rejection and how much its peak memory grew."""
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        check=True,
    )
    result = json.loads(run.stdout)
    return result["rejection"], int(result["grew"])


needs_rusage = pytest.mark.skipif(sys.platform == "win32", reason="no resource module")
HEAD = '---\ntitle: Big\nwebUrl: "https://big.example/a"\npublishedDateTime: 2024-01-01T00:00:00Z\n'


@needs_rusage
@pytest.mark.parametrize("name", ["alias-bomb.md", "pairs-bomb.md", "merge-bomb.md"])
def test_an_alias_bomb_is_rejected_in_bounded_memory(name: str) -> None:
    rejection, grew = peak_growth(BROKEN / name, MIB)
    assert rejection == "front matter expands to over 100,000 values"
    assert grew < 32 * MIB


@needs_rusage
def test_a_file_of_many_megabytes_over_the_limit_is_never_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with open(path, "wb") as f:
        f.truncate(200 * MIB)
    rejection, grew = peak_growth(path, MIB)
    assert rejection == "file is 209,715,200 bytes, over the limit of 1,048,576 (max_file_bytes)"
    assert grew < 8 * MIB


@needs_rusage
def test_a_file_of_many_megabytes_under_a_raised_limit_loads_in_memory_proportional_to_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.md"
    line = "  <p>" + "x" * 70 + "</p>\n"
    path.write_text(HEAD + "featuredContent: |\n" + line * (8 * MIB // len(line)) + "---\n")
    rejection, grew = peak_growth(path, 16 * MIB)
    assert rejection is None
    assert grew < 8 * 8 * MIB  # about 5x the file: bytes, text, YAML's copy, the value


@needs_rusage
def test_millions_of_values_are_refused_before_a_tree_is_built(tmp_path: Path) -> None:
    path = tmp_path / "values.md"
    path.write_text(HEAD + "related: [" + ",".join(["1"] * (4 * MIB)) + "]\n---\n")
    rejection, grew = peak_growth(path, 16 * MIB)
    assert rejection == "front matter holds over 100,000 values"
    assert grew < 6 * 8 * MIB  # building the 4M-node tree first took 1.5 GB


def test_nesting_that_crashes_libyaml_0_2_5_is_refused_in_a_child_process(tmp_path: Path) -> None:
    """100,000 ``[`` segfault the composer of PyYAML 6.0-6.0.3 wheels; it must never see them."""
    for name, body in (
        ("brackets.md", "excerpt: " + "[" * 100_000),
        ("dashes.md", "related:\n" + "- " * 100_000 + "x"),
    ):
        path = tmp_path / name
        path.write_text(HEAD + body + "\n---\n")
        run = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path), str(MIB)],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ | {"PYTHONPATH": str(REPO)},
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["rejection"] == "front matter is nested over 64 levels deep"


# --------------------------------------------------------------------------- symlinks


def test_symlinks_in_the_output_folder_never_lead_out_of_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    news = site / "_news"
    news.mkdir(parents=True)
    for i, topic in enumerate(("AI", "Space", "Gone")):
        (news / f"2024-05-0{i + 1}-s.md").write_text(
            article_text(url=f"https://a.example/{i}", topics=[topic], domain="one.example")
        )
    out = tmp_path / "out"
    config = Config(sources=(site,), out=out, base_url=BASE_URL)
    now = datetime(2026, 11, 27, tzinfo=UTC)
    build(config, now)
    assert (out / "topics" / "gone" / "rss.xml").is_file()

    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    for name in ("keep.txt", "rss.xml", "atom.xml", "feed.json", "index.html"):
        (sentinel / name).write_text(f"outside: {name}\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret\n")

    shutil.rmtree(out / "topics")
    (out / "topics").symlink_to(sentinel, target_is_directory=True)  # a folder leading out
    (out / "rss.xml").unlink()
    (out / "rss.xml").symlink_to(secret)  # a feed file leading out
    shutil.rmtree(out / "providers" / "one.example")
    (out / "providers" / "one.example").symlink_to(sentinel, target_is_directory=True)
    manifest = json.loads((out / ".feedpub-manifest.json").read_text())
    manifest += [
        "../sentinel/keep.txt",
        str(sentinel / "keep.txt"),
        "topics/../../sentinel/keep.txt",
        "providers/gone.example/rss.xml",
    ]
    (out / ".feedpub-manifest.json").write_text(json.dumps(manifest))
    (out / "providers" / "gone.example").symlink_to(sentinel, target_is_directory=True)
    (news / "2024-05-03-s.md").unlink()  # topics/gone is now stale: its files get removed
    before = snapshot(tmp_path, out)

    report = build(config, now)
    assert snapshot(tmp_path, out) == before, "something outside the output folder changed"
    assert secret.read_text() == "secret\n"
    assert not (out / "topics").is_symlink() and (out / "topics" / "ai" / "rss.xml").is_file()
    assert not (out / "rss.xml").is_symlink() and b"<rss" in (out / "rss.xml").read_bytes()
    assert not (out / "providers" / "one.example").is_symlink()
    assert (out / "providers" / "gone.example").is_symlink()  # never written, never followed
    assert not any(r.startswith(("topics/gone", "..", "/")) for r in report.removed)


# --------------------------------------------------------------------------- amplification


def test_one_file_cannot_make_thousands_of_feeds_or_warnings(tmp_path: Path) -> None:
    path = tmp_path / "many.md"
    topics = ", ".join(f"t{i}" for i in range(20_000))
    images = ", ".join(["javascript:x"] * 20_000)
    path.write_text(HEAD + f"topics: [{topics}]\nimages: [{images}]\n---\n")
    result = load_file(SourceFile(path, "many.md"), 1 << 20)
    assert result.article is not None
    assert result.article.topics == tuple(f"t{i}" for i in range(20))
    assert result.notes[0] == "many.md: 20,000 topics; only the first 20 are published"
    assert result.notes[1] == "many.md: 20,000 images; only the first 10 are read"
    assert len(result.notes) == 6
    # Only the first 10 images are read at all: 10 notes for them, 5 notes shown in all.
    assert result.notes[-1] == "many.md: and 7 more like these"


def test_a_thousand_stories_at_one_instant_still_get_distinct_dates() -> None:
    instant = datetime(2024, 5, 1, tzinfo=UTC)
    stories = [
        Article(
            key=f"2024-05-01:s{i}",
            path=f"s{i}.md",
            title=f"S{i}",
            url=f"https://a.example/{i}",
            published=instant,
        )
        for i in range(2500)
    ]
    kept, _, _ = select_articles(stories, include_drafts=False)  # looped forever past 999
    updated = [a.updated_at for a in kept]
    assert len(set(updated)) == 2500
    assert all(instant < u < instant + timedelta(seconds=1) for u in updated)


def test_hostile_taxonomy_files_are_notes_and_their_ids_stay_safe(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "_news").mkdir(parents=True)
    (site / "_news" / "2024-05-01-a.md").write_text(article_text(topics=["Escape", "Bomb"]))
    topics = site / "_data" / "topics"
    topics.mkdir(parents=True)
    (topics / "00-escape.yaml").write_text("_id: ../../../etc\nname: Escape\n")
    (topics / "01-bomb.yaml").write_bytes((BROKEN / "alias-bomb.md").read_bytes()[4:-28])
    (topics / "02-deep.yaml").write_text("name: Deep\nkeywords: " + "[" * 40_000 + "\n")
    (topics / "03-python.yaml").write_text("name: !!python/object/apply:os.system [touch x]\n")
    orgs = site / "_data" / "organizations"
    orgs.mkdir()
    (orgs / "evil.md").write_text("---\nname: '<b>Evil</b>'\ndomain: ../../evil\n---\n")
    out = tmp_path / "out"
    report = build(
        Config(sources=(site,), out=out, base_url=BASE_URL), datetime(2026, 11, 27, tzinfo=UTC)
    )
    assert report.rejected == ()
    notes = "\n".join(report.warnings)
    assert "01-bomb.yaml:" in notes and "taxonomy file expands to over 100,000 values" in notes
    assert "02-deep.yaml:2: taxonomy file is nested over 64 levels deep; left out" in notes
    assert (
        "03-python.yaml:1: YAML error in taxonomy file: could not determine a constructor" in notes
    )
    assert sorted(p.name for p in (out / "topics").iterdir()) == ["bomb", "etc"]
