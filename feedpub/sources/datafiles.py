"""The site's own data files: topics (``_data/topics/*.yaml``) and providers
(``_data/organizations/*.md``). A bad file is a note, never fatal."""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceError
from ..model import Provider, Topic
from ..text import clean_text
from .fields import url_problem
from .frontmatter import parse_front_matter
from .read import display_name, read_text
from .yamlsafe import read_yaml

# A taxonomy file is a handful of lines; anything this large is not one.
MAX_DATA_FILE_BYTES = 1 << 20


def load_topics(site_root: Path, notes: list[str]) -> list[Topic]:
    """Read ``_data/topics/*.yaml``; a bad file is a note, never fatal."""
    topics: list[Topic] = []
    folder = site_root / "_data" / "topics"
    if not folder.is_dir():
        return topics
    for path in sorted(folder.glob("*.y*ml")):
        display = display_name(path)
        try:
            text = read_text(path, display, MAX_DATA_FILE_BYTES)
            data = read_yaml(text, display, 1, "taxonomy file").data
        except SourceError as e:
            notes.append(f"{e}; left out")
            continue
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(name, str) or not clean_text(name):
            notes.append(f"{display}: taxonomy file has no topic name; left out")
            continue
        slug = data.get("_id")
        keywords = data.get("keywords")
        topics.append(
            Topic(
                slug=slug if isinstance(slug, str) else "",
                name=clean_text(name),
                description=_taxonomy_text(data.get("description")),
                keywords=tuple(
                    clean_text(k) for k in keywords if isinstance(k, str) and clean_text(k)
                )
                if isinstance(keywords, list)
                else (),
            )
        )
    return topics


def _taxonomy_text(value: object) -> str:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def load_organizations(site_root: Path, notes: list[str]) -> list[Provider]:
    """Read ``_data/organizations/*.md`` (front matter only); bad files are notes."""
    providers: list[Provider] = []
    folder = site_root / "_data" / "organizations"
    if not folder.is_dir():
        return providers
    for path in sorted(folder.glob("*.md")):
        display = display_name(path)
        try:
            text = read_text(path, display, MAX_DATA_FILE_BYTES)
            data = parse_front_matter(text, display).data
        except SourceError as e:
            notes.append(f"{e}; organization file left out")
            continue
        name, domain = data.get("name"), data.get("domain") or data.get("_id")
        if not isinstance(name, str) or not isinstance(domain, str):
            notes.append(f"{display}: organization has no name or domain; left out")
            continue
        images = data.get("images")
        logo = None
        if isinstance(images, list) and images and isinstance(images[0], dict):
            candidate = images[0].get("url")
            if isinstance(candidate, str) and url_problem(candidate) is None:
                logo = candidate
        domain = clean_text(domain).lower().strip(".")
        if not clean_text(name) or not domain:
            notes.append(f"{display}: organization has no name or domain; left out")
            continue
        providers.append(Provider(name=clean_text(name), domain=domain, logo=logo))
    return providers
