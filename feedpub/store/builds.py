"""What the last build left: its fingerprint and report, and a digest per feed.

Two of the three layers of incremental work live here (the third, per file,
is articles.py): a build whose fingerprint (files, config, version) matches
the last one's returns that report at once; otherwise a feed whose digest
(everything its files are made of) matches is not rendered again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .state import State, guarded


@guarded
def last_build(state: State) -> tuple[str | None, str | None]:
    """The fingerprint and JSON report of the last finished build, if any."""
    values = _get_meta(state, "fingerprint", "report")
    return values.get("fingerprint"), values.get("report")


@guarded
def last_report_of(state: State, out: str) -> str | None:
    """The JSON report of the last finished build into the output folder ``out``."""
    values = _get_meta(state, "report", "out")
    return values.get("report") if values.get("out") == out else None


def _get_meta(state: State, *names: str) -> dict[str, str]:
    marks = ",".join("?" * len(names))
    rows = state.connection.execute(f"SELECT name, value FROM meta WHERE name IN ({marks})", names)
    return dict(rows.fetchall())


@guarded
def start_build(state: State) -> None:
    """From here the output may change: until this build finishes, no earlier
    build's fingerprint may vouch for it (a killed run must not be skipped over)."""
    _set_meta(state, {"fingerprint": ""})


@guarded
def finish_build(state: State, fingerprint: str, report: str, out: str) -> None:
    _set_meta(state, {"fingerprint": fingerprint, "report": report, "out": out})


def _set_meta(state: State, values: Mapping[str, str]) -> None:
    with state.transaction() as db:
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))


@guarded
def feed_digests(state: State) -> dict[str, str]:
    """The digest of every feed the last build wrote, by folder."""
    return dict(state.connection.execute("SELECT folder, digest FROM feeds").fetchall())


@guarded
def forget_feeds(state: State, folders: Iterable[str]) -> None:
    """Forget feeds about to be rewritten: a run killed while writing them leaves
    them to be rendered again, never trusted."""
    with state.transaction() as db:
        db.executemany("DELETE FROM feeds WHERE folder = ?", [(f,) for f in folders])


@guarded
def record_feeds(state: State, digests: Mapping[str, str]) -> None:
    """The digests of every feed, once the files they vouch for are in place."""
    with state.transaction() as db:
        db.execute("DELETE FROM feeds")
        db.executemany("INSERT INTO feeds VALUES (?, ?)", sorted(digests.items()))
