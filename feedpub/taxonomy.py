"""Topic and provider names → safe, stable, distinct folder names (slugs).

Slugs become paths under the output folder and URLs subscribers keep for
years, so they are drawn from a safe alphabet only (``a-z 0-9 - .``), never
empty, never ``.`` or ``..``, and two different names never share one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .model import ArticleHead, Provider, Topic
from .text import slugify

_SAFE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
# Windows refuses these as file or folder names, with any extension (con.com too):
# on such a machine a feed folder named so could not be written at all.
_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{d}{i}" for d in ("com", "lpt") for i in range(10)}
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Every topic and provider the articles name, resolved to slugs.

    ``topic_of`` maps a normalized topic name (see ``normalize_name``) to its
    Topic; ``provider_of`` maps a provider identity (see ``provider_identity``)
    to its key and display Provider.
    """

    topics: Mapping[str, Topic]
    providers: Mapping[str, Provider]
    warnings: tuple[str, ...] = ()
    # How often each spelling of each topic (by its normalized name), and each name of
    # each provider (by identity), was used: what picked the names shown.
    spellings: Mapping[str, Counter[str]] = field(default_factory=dict)
    provider_names: Mapping[str, Counter[str]] = field(default_factory=dict)

    def topic(self, name: str) -> Topic | None:
        topic = self.topics.get(name)  # most names come as they were first seen
        return topic if topic is not None else self.topics.get(normalize_name(name))

    def provider(self, provider: Provider | None) -> Provider | None:
        if provider is None:
            return None
        return self.providers.get(provider_identity(provider))


def normalize_name(name: str) -> str:
    """Names equal under this are one topic: case, spacing and Unicode form do not matter.

    ``Café`` typed with a precomposed é and with e + U+0301 are one name (NFC).
    """
    return unicodedata.normalize("NFC", " ".join(name.split()).casefold())


def provider_identity(provider: Provider) -> str:
    """What makes two provider mentions the same provider: the domain, else the name."""
    domain = provider.domain.strip().lower().strip(".").removeprefix("www.")
    return domain or "name:" + normalize_name(provider.name)


def _fallback_slug(prefix: str, identity: str) -> str:
    return f"{prefix}-{hashlib.sha1(identity.encode('utf-8')).hexdigest()[:8]}"


def _taxonomy_slug(raw: str) -> str:
    return raw if _SAFE_SLUG.match(raw) else slugify(raw)


def _provider_slug(identity: str) -> str:
    if identity.startswith("name:"):
        return slugify(identity[5:])
    try:
        ascii_domain = identity.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_domain = ""
    if _HOSTNAME.match(ascii_domain):
        return ascii_domain
    return slugify(identity)


def assign_slugs(
    wanted: Mapping[str, str], preferred: Iterable[str], prefix: str
) -> tuple[dict[str, str], list[str]]:
    """Give every identity a distinct slug, as close to the one it wants as possible.

    When identities want the same slug, a preferred one (from the taxonomy)
    keeps it, else the first in sorted order; the others get a suffix hashed
    from their own identity, so the result never depends on input order.
    """
    preferred_set = set(preferred)
    claims: dict[str, list[str]] = {}
    for identity, slug in wanted.items():
        if not slug:
            slug = _fallback_slug(prefix, identity)
        elif slug.split(".")[0] in _DEVICE_NAMES:
            slug = f"{prefix}-{slug}"
        claims.setdefault(slug, []).append(identity)
    assigned: dict[str, str] = {}
    warnings: list[str] = []
    taken = set(claims)
    for slug in sorted(claims):
        owners = sorted(claims[slug], key=lambda i: (i not in preferred_set, i))
        assigned[owners[0]] = slug
        for other in owners[1:]:
            alternative = f"{slug[:70]}-{_fallback_slug(prefix, other)[-8:]}"
            while alternative in taken:
                alternative += "x"
            taken.add(alternative)
            assigned[other] = alternative
            warnings.append(
                f"{prefix} names {owners[0]!r} and {other!r} share the slug {slug!r}; "
                f"{other!r} is published as {alternative!r}"
            )
    return assigned, warnings


def build_taxonomy(
    articles: Sequence[ArticleHead], topics: Sequence[Topic], organizations: Sequence[Provider]
) -> Taxonomy:
    """Resolve every topic and provider named by ``articles``.

    Topic slugs come from the taxonomy ``_id`` when a taxonomy entry's name
    (or id) matches case-insensitively, else from the name. Provider keys are
    their domains; display names come from ``_data/organizations`` when known.
    """
    resolved_topics, spellings, warnings = _resolve_topics(articles, topics)
    resolved_providers, names, provider_warnings = _resolve_providers(articles, organizations)
    return Taxonomy(
        resolved_topics,
        resolved_providers,
        tuple(warnings + provider_warnings),
        spellings,
        names,
    )


def _resolve_topics(
    articles: Sequence[ArticleHead], topics: Sequence[Topic]
) -> tuple[dict[str, Topic], dict[str, Counter[str]], list[str]]:
    known: dict[str, Topic] = {}
    for topic in topics:
        for alias in (topic.name, topic.slug):
            if alias:
                known.setdefault(normalize_name(alias), topic)

    # Articles repeat a few names thousands of times: count names, then normalize each once.
    name_counts = Counter(name for article in articles for name in article.topics)
    spellings: dict[str, Counter[str]] = {}
    for name, count in name_counts.items():
        spellings.setdefault(normalize_name(name), Counter())[name] += count

    wanted: dict[str, str] = {}
    display: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    preferred: list[str] = []
    for norm, counts in spellings.items():
        entry = known.get(norm)
        if entry is not None and entry.slug:
            wanted[norm] = _taxonomy_slug(entry.slug)
            display[norm] = entry.name
            descriptions[norm] = entry.description
            preferred.append(norm)
        else:
            display[norm] = most_common(counts)
            wanted[norm] = slugify(display[norm])
    slugs, warnings = assign_slugs(wanted, preferred, "topic")
    resolved: dict[str, Topic] = {}
    for norm, counts in spellings.items():
        topic = Topic(slug=slugs[norm], name=display[norm], description=descriptions.get(norm, ""))
        resolved[norm] = topic
        for spelling in counts:
            resolved.setdefault(spelling, topic)
    return resolved, spellings, warnings


def _resolve_providers(
    articles: Sequence[ArticleHead], organizations: Sequence[Provider]
) -> tuple[dict[str, Provider], dict[str, Counter[str]], list[str]]:
    orgs = {provider_identity(p): p for p in organizations}
    # Articles share their Provider objects (the cache hands out one per distinct
    # value): count the objects in C, then look at each distinct one, in the order
    # first seen, which keeps "the first article's logo" (an equal provider that is
    # another object is just counted apart).
    uses = Counter(id(article.provider) for article in articles)
    first_seen = {id(article.provider): article.provider for article in articles}
    names: dict[str, Counter[str]] = {}
    logos: dict[str, str] = {}
    for key, provider in first_seen.items():
        if provider is None:
            continue
        identity = provider_identity(provider)
        names.setdefault(identity, Counter())[provider.name] += uses[key]
        if provider.logo and identity not in logos:
            logos[identity] = provider.logo
    slugs, warnings = assign_slugs(
        {identity: _provider_slug(identity) for identity in names}, orgs, "provider"
    )
    resolved: dict[str, Provider] = {}
    for identity, counts in names.items():
        org = orgs.get(identity)
        name = org.name if org else most_common(counts)
        logo = logos.get(identity) or (org.logo if org else None)
        resolved[identity] = Provider(name=name, domain=slugs[identity], logo=logo)
    return resolved, names, warnings


def most_common(counts: Mapping[str, int]) -> str:
    """The spelling used most often; of equals, the first in code-point order."""
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
