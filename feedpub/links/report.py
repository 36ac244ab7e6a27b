"""Link reports that name names: which URLs failed, how, and which files cite them.

Pure: every function returns data or text; the CLI prints it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from ..model import ArticleHead, LinkResult, LinkState
from .check import LinkReport

# The classes a report lists, worst first; alive and skipped links need no action.
PROBLEMS = (LinkState.DEAD, LinkState.BLOCKED, LinkState.UNKNOWN)
DEFAULT_LIMIT = 20  # rows in the terminal table unless --verbose

CitedBy = Mapping[str, Sequence[str]]  # URL → the article files that link to it, sorted


def cited_by(articles: Iterable[ArticleHead], include_drafts: bool) -> dict[str, tuple[str, ...]]:
    """URL → the sorted paths of the article files citing it, for the articles a build checks."""
    paths: defaultdict[str, set[str]] = defaultdict(set)
    for article in articles:
        if include_drafts or not article.draft:
            paths[article.url].add(article.path)
    return {url: tuple(sorted(found)) for url, found in paths.items()}


def problem_links(report: LinkReport) -> list[LinkResult]:
    """The dead, blocked and unknown results, worst class first, then by URL."""
    rank = {state: i for i, state in enumerate(PROBLEMS)}
    found = [r for r in report.results if r.state in rank]
    return sorted(found, key=lambda r: (rank[r.state], r.url))


def describe(result: LinkResult) -> str:
    """What happened to a URL in a few words: the error, or the HTTP status."""
    if result.error:
        return result.error
    if result.http_status is not None:
        return f"HTTP {result.http_status}"
    return result.state.value


def format_table(report: LinkReport, files: CitedBy, *, limit: int | None = DEFAULT_LIMIT) -> str:
    """A plain-text table of the problem links for a terminal, ``limit`` rows at most.

    Each URL takes a row (state, status or error, URL) and a line per citing
    file; past ``limit`` rows one line says how many more there are.
    """
    problems = problem_links(report)
    if not problems:
        return ""
    shown = problems if limit is None else problems[:limit]
    width = max(len(r.state.value) for r in shown)
    lines = [f"{len(problems)} link{'s' if len(problems) != 1 else ''} need attention:"]
    for r in shown:
        lines.append(f"  {r.state.value:<{width}}  {r.url}")
        lines.append(f"  {'':<{width}}  {describe(r)}")
        for path in files.get(r.url, ()):
            lines.append(f"  {'':<{width}}  cited by {path}")
    if len(shown) < len(problems):
        more = len(problems) - len(shown)
        lines.append(f"  … and {more} more (--verbose lists them all; --json lists every link)")
    return "\n".join(lines) + "\n"


def format_markdown(report: LinkReport, files: CitedBy) -> str:
    """A Markdown report for a CI comment: a summary line and a table of every problem link."""
    counts = report.counts()
    problems = problem_links(report)
    lines = [
        "## Link check",
        "",
        f"{len(report.results)} links: {counts['alive']} alive, {counts['dead']} dead "
        f"({report.confirmed_dead} confirmed), {counts['blocked']} blocked, "
        f"{counts['unknown']} unknown, {counts['skipped']} skipped.",
    ]
    if report.network_down is not None:
        failed, hosts = report.network_down
        lines += ["", f"**The network looked down**: {failed} of {hosts} hosts unreachable."]
    if problems:
        lines += ["", "| State | URL | Status or error | Cited by |", "|---|---|---|---|"]
        for r in problems:
            cited = "<br>".join(f"`{_code(p)}`" for p in files.get(r.url, ()))
            lines.append(f"| {r.state.value} | {_cell(r.url)} | {_cell(describe(r))} | {cited} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipe, no line break, no HTML."""
    text = " ".join(text.split())
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    return text


def _code(text: str) -> str:
    """Text safe inside a one-backtick code span in a table cell."""
    return " ".join(text.split()).replace("`", "'").replace("|", "\\|")
