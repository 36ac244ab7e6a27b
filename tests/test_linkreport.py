"""Link reports that name names, against the real loopback server (tests/linkserver.py).

check-links lists every dead, blocked and unknown URL with the files citing it;
build --check-links names each story it drops or flags.
"""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedpub.cli import EXIT_DEAD_LINKS, main
from feedpub.links.check import LinkReport
from feedpub.links.report import cited_by, format_markdown, format_table, problem_links
from feedpub.model import Article, LinkResult, LinkState
from tests.conftest import article_text
from tests.linkserver import LinkServer

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """Five stories, four links: alive, dead (cited by two files), blocked, unreachable."""

    def __init__(
        self,
        server: LinkServer,
        write: Callable[..., Path],
        tmp_path: Path,
        *,
        unreachable: bool = True,  # its retries cost a second: only where it matters
    ) -> None:
        self.alive = server.url("/ok")
        self.dead = server.url("/missing")
        self.blocked = server.url("/forbidden")
        self.unreachable = f"http://127.0.0.1:{_closed_port()}/story"
        urls = [self.alive, self.dead, self.dead, self.blocked]
        urls += [self.unreachable] if unreachable else []
        self.files: dict[str, list[str]] = {}
        for day, url in enumerate(urls, start=1):
            path = write(
                f"2024-05-0{day}-story{day}.md",
                text=article_text(title=f"Story {day}", url=url, date=f"2024-05-0{day}T10:00:00Z"),
            )
            self.files.setdefault(url, []).append(str(path))
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            'source = ["site"]\nout = "out"\nstate = "state.sqlite"\n'
            "[links]\nconfirm_after = 0\nallow_private = true\nurl_deadline = 3\n"
        )

    def args(self, *more: str) -> list[str]:
        return ["check-links", "--config", str(self.config), *more]


@pytest.fixture
def report_site(
    link_server: LinkServer, write_article: Callable[..., Path], tmp_path: Path
) -> Site:
    return Site(link_server, write_article, tmp_path)


@pytest.fixture
def quick_site(link_server: LinkServer, write_article: Callable[..., Path], tmp_path: Path) -> Site:
    return Site(link_server, write_article, tmp_path, unreachable=False)


def test_check_links_names_each_problem_link_and_the_files_citing_it(
    report_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(report_site.args()) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 links need attention:\n")
    for url, state, what in (
        (report_site.dead, "dead", "HTTP 404 Not Found"),
        (report_site.blocked, "blocked", "HTTP 403 Forbidden"),
        (report_site.unreachable, "unknown", "cannot connect"),
    ):
        row = next(line for line in out.splitlines() if line.endswith(url))
        assert row.split() == [state, url]
        block = out[out.index(row) :].splitlines()
        assert what in block[1]
        for i, path in enumerate(report_site.files[url], start=2):
            assert block[i].split() == ["cited", "by", path]
    assert report_site.alive not in out
    rows = [line.split()[0] for line in out.splitlines() if "http://" in line]
    assert rows == ["dead", "blocked", "unknown"]  # worst first


def test_the_json_report_lists_the_files_of_every_link(
    report_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(report_site.args("--json")) == 0
    links = {link["url"]: link for link in json.loads(capsys.readouterr().out)["links"]}
    assert set(links) == set(report_site.files)
    for url, files in report_site.files.items():
        assert links[url]["files"] == sorted(files)
    assert len(links[report_site.dead]["files"]) == 2
    assert links[report_site.dead]["http_status"] == 404
    assert links[report_site.unreachable]["error"].startswith("cannot connect")


def test_the_markdown_report_is_a_table_for_a_ci_comment(
    report_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(report_site.args("--format", "markdown")) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "## Link check"
    assert "4 links: 1 alive, 1 dead (0 confirmed), 1 blocked, 1 unknown, 0 skipped." in out
    header = lines.index("| State | URL | Status or error | Cited by |")
    assert lines[header + 1] == "|---|---|---|---|"
    rows = lines[header + 2 :]
    assert len(rows) == 3
    dead = rows[0].split(" | ")
    assert dead[:3] == ["| dead", report_site.dead, "HTTP 404 Not Found"]
    assert dead[3].removesuffix(" |").split("<br>") == [
        f"`{p}`" for p in sorted(report_site.files[report_site.dead])
    ]


def test_fail_on_dead_exits_5_once_a_link_is_confirmed_dead(
    quick_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    report_site = quick_site
    assert EXIT_DEAD_LINKS == 5
    assert main(report_site.args("--fail-on-dead")) == 0  # seen dead once: not confirmed yet
    assert main(report_site.args("--fail-on-dead", "--fresh")) == EXIT_DEAD_LINKS
    assert "1 dead (1 confirmed)" in capsys.readouterr().err
    assert main(report_site.args("--fresh")) == 0  # without the flag, dead links are a report


def test_build_names_each_dropped_story(
    quick_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    report_site = quick_site
    args = ["build", "--config", str(report_site.config), "--check-links", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["dead_links"] == []
    assert main([*args, "--fresh"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["dropped_dead"] == 2 and report["flagged_dead"] == 0
    stories = report["dead_links"]
    assert [(s["path"], s["url"], s["action"]) for s in stories] == [
        (path, report_site.dead, "dropped") for path in sorted(report_site.files[report_site.dead])
    ]
    for story in stories:
        assert story["reason"].startswith("HTTP 404 Not Found; dead since ")
        assert story["reason"].endswith(", 2 checks")
        assert f"dropped: {story['path']}: {report_site.dead}: {story['reason']}" in captured.err


def _result(url: str, state: LinkState, error: str | None = None) -> LinkResult:
    return LinkResult(url=url, state=state, checked_at=T0, error=error)


def _report(*results: LinkResult) -> LinkReport:
    return LinkReport(results=results, requests=0, cache_hits=0, confirmed_dead=0, seconds=0)


def test_the_table_is_capped_unless_told_otherwise() -> None:
    report = _report(
        *(_result(f"https://a.test/{i:02}", LinkState.DEAD, "HTTP 404") for i in range(25)),
        _result("https://a.test/fine", LinkState.ALIVE),
    )
    capped = format_table(report, {}, limit=20)
    assert capped.count("https://a.test/") == 20
    assert capped.splitlines()[-1] == (
        "  … and 5 more (--verbose lists them all; --json lists every link)"
    )
    full = format_table(report, {}, limit=None)
    assert full.count("https://a.test/") == 25 and "more" not in full
    assert format_table(_report(_result("https://a.test/", LinkState.ALIVE)), {}) == ""


def test_markdown_cells_cannot_break_the_table() -> None:
    url = "https://a.test/a|b"
    report = _report(_result(url, LinkState.UNKNOWN, "odd | answer\nwith <b>html</b>"))
    out = format_markdown(report, {url: ("site/_news/x|`y`.md",)})
    row = out.splitlines()[-1]
    assert row == (
        "| unknown | https://a.test/a\\|b | odd \\| answer with &lt;b&gt;html&lt;/b&gt; "
        "| `site/_news/x\\|'y'.md` |"
    )


def test_cited_by_maps_each_url_to_its_sorted_files() -> None:
    def article(path: str, url: str, draft: bool = False) -> Article:
        return Article(key=path, path=path, title="t", url=url, published=T0, draft=draft)

    articles = [article("b.md", "u1"), article("a.md", "u1"), article("c.md", "u2", draft=True)]
    assert cited_by(articles, include_drafts=False) == {"u1": ("a.md", "b.md")}
    assert cited_by(articles, include_drafts=True) == {"u1": ("a.md", "b.md"), "u2": ("c.md",)}
    report = _report(
        _result("u3", LinkState.UNKNOWN),
        _result("u1", LinkState.BLOCKED),
        _result("u2", LinkState.DEAD),
        _result("u0", LinkState.SKIPPED),
    )
    assert [r.url for r in problem_links(report)] == ["u2", "u1", "u3"]


def test_progress_on_a_terminal_shows_rate_time_left_and_dead_links(
    report_site: Site, tmp_path: Path
) -> None:
    """stderr on a pseudo-terminal gets the progress line; a pipe never does."""
    command = [sys.executable, "-m", "feedpub", *report_site.args("--fresh")]
    main_side, terminal = pty.openpty()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=terminal, cwd=tmp_path, close_fds=True
    )
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(main_side, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(main_side)
    assert process.wait(timeout=30) == 0
    assert process.stdout is not None
    process.stdout.close()
    text = seen.decode()
    assert "\rchecking links [" in text
    last = text.rpartition("\rchecking links [")[2]
    assert "4/4" in last and "/s," in last and "s left" in last and "1 dead" in last

    piped = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert piped.returncode == 0 and "checking links" not in piped.stderr


def test_check_links_says_when_the_network_looks_down(
    write_article: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()  # five loopback addresses, five hosts, none listening
    for i in range(1, 6):
        write_article(f"2024-05-0{i}-story.md", url=f"http://127.0.0.{i}:{port}/story")
    config = tmp_path / "config.toml"
    config.write_text('source = ["site"]\nstate = "state.sqlite"\n[links]\nallow_private = true\n')
    assert main(["check-links", "--config", str(config), "--json"]) == 0
    captured = capsys.readouterr()
    assert (
        "warning: the network looks down: 5 of 5 hosts could not be resolved or reached; "
        "those results are kept for minutes only, and no link counts as dead"
    ) in captured.err
    document = json.loads(captured.out)
    assert document["summary"]["network_down"] is True
    assert all(
        link["state"] == "unknown" and "(the network looked down: 5 of 5 hosts" in link["error"]
        for link in document["links"]
    )
