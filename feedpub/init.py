"""A new site: ``feedpub init`` writes a commented config.toml and a first article."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from .assets import asset_text
from .errors import OutputError

CONFIG_NAME = "config.toml"
ARTICLES = "_news"


def init_site(root: Path, now: datetime) -> tuple[Path, ...]:
    """Write ``config.toml`` and ``_news/<date>-welcome.md`` below ``root``.

    The article is dated a minute before ``now`` (an aware datetime), so the
    first build publishes it rather than holding it as scheduled. Nothing is
    overwritten: if either file exists, neither is written.

    Raises:
        OutputError: a file to write already exists, or the folder cannot be written.
    """
    moment = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    article = asset_text("init-welcome.md").replace(
        "@DATETIME@", moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    planned = {
        root / CONFIG_NAME: asset_text("init-config.toml"),
        root / ARTICLES / f"{moment.date().isoformat()}-welcome.md": article,
    }
    existing = [path for path in planned if path.exists() or path.is_symlink()]
    if existing:
        raise OutputError(
            f"{existing[0]} already exists: feedpub init never overwrites a file; "
            "pick an empty folder (feedpub init DIR)"
        )
    written: list[Path] = []
    try:
        for path, text in planned.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as f:  # "x": fail rather than overwrite
                f.write(text)
            written.append(path)
    except OSError as e:
        raise OutputError(f"cannot write {e.filename or root}: {e.strerror or e}") from e
    return tuple(written)
