from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from feedpub.config import Config, FeedPolicy
from feedpub.group import group_articles
from feedpub.model import Article, FeedKind, LoadResult, Provider, Topic
from feedpub.selection import canonical_url, select_articles
from feedpub.taxonomy import build_taxonomy
from feedpub.text import slugify

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def art(
    key: str,
    *,
    hours_ago: float = 0,
    quality: int = 50,
    url: str | None = None,
    topics: tuple[str, ...] = ("AI",),
    provider: str = "example.com",
    draft: bool = False,
) -> Article:
    return Article(
        key=f"2024-05-01:{key}",
        path=f"_news/{key}.md",
        title=key,
        url=url or f"https://example.com/{key}",
        published=NOW - timedelta(hours=hours_ago),
        quality=quality,
        provider=Provider(name=provider.split(".")[0].title(), domain=provider),
        topics=topics,
        draft=draft,
    )


def feeds_by_key(
    config: Config, *articles: Article, topics: tuple[Topic, ...] = ()
) -> dict[str, list[str]]:
    selection = group_articles(
        LoadResult(articles=articles, rejections=(), topics=topics), config, NOW
    )
    return {f"{f.kind.value}:{f.key}": [a.title for a in f.items] for f in selection.feeds}


def test_drafts_are_left_out_unless_asked() -> None:
    articles = [art("a"), art("b", draft=True)]
    kept, drafts, _ = select_articles(articles, include_drafts=False)
    assert [a.title for a in kept] == ["a"] and drafts == 1
    kept, drafts, _ = select_articles(articles, include_drafts=True)
    assert sorted(a.title for a in kept) == ["a", "b"] and drafts == 0


def test_duplicates_keep_the_higher_quality_then_the_newer() -> None:
    url = "https://example.com/story"
    low = art("low", url=url, quality=10)
    high = art("high", url="HTTPS://Example.com:443/story#top", quality=90, hours_ago=5)
    newer = art("newer", url=url, quality=90, hours_ago=1)
    kept, _, duplicates = select_articles([low, high, newer], include_drafts=False)
    assert [a.title for a in kept] == ["newer"]
    assert duplicates == 2


def test_canonical_url_ignores_case_of_host_default_port_and_fragment() -> None:
    assert canonical_url("HTTP://A.example:80/x?q=1#f") == canonical_url("http://a.example/x?q=1")
    assert canonical_url("https://a.example/X") != canonical_url("https://a.example/x")


def test_order_is_newest_first_then_quality_then_id() -> None:
    same_instant = [art("b", quality=5), art("a", quality=5), art("c", quality=9)]
    older = art("old", hours_ago=3, quality=100)
    feeds = feeds_by_key(Config(), older, *same_instant)
    assert feeds["site:"] == ["c", "a", "b", "old"]


def test_one_feed_per_topic_and_per_provider() -> None:
    feeds = feeds_by_key(
        Config(),
        art("a", topics=("AI", "Robots"), provider="one.example"),
        art("b", topics=("ai",), provider="two.example", hours_ago=1),
    )
    assert feeds == {
        "site:": ["a", "b"],
        "topic:ai": ["a", "b"],
        "topic:robots": ["a"],
        "provider:one.example": ["a"],
        "provider:two.example": ["b"],
    }


def test_taxonomy_id_gives_the_slug_case_insensitively() -> None:
    taxonomy = (Topic(slug="artificial-intelligence", name="Artificial Intelligence"),)
    feeds = feeds_by_key(Config(), art("a", topics=("artificial intelligence",)), topics=taxonomy)
    assert "topic:artificial-intelligence" in feeds


def test_editorial_controls_globally_and_per_topic() -> None:
    articles = [
        art(f"n{i}", hours_ago=i * 24, quality=i * 10, topics=("AI", "Space")) for i in range(6)
    ]
    config = Config(
        max_items=4,
        topics={
            "Space": FeedPolicy(min_quality=20, max_age_days=3.5, title="Space!"),
            "ai": FeedPolicy(enabled=False),
        },
    )
    selection = group_articles(LoadResult(articles=tuple(articles), rejections=()), config, NOW)
    feeds = {f.key: f for f in selection.feeds}
    assert "ai" not in feeds
    assert [a.title for a in feeds[""].items] == ["n0", "n1", "n2", "n3"]
    assert feeds[""].total == 6
    assert [a.title for a in feeds["space"].items] == ["n2", "n3"]
    assert feeds["space"].title == "Space!"


def test_colliding_topic_names_never_share_a_slug() -> None:
    articles = [art("a", topics=("C++",)), art("b", topics=("C#",), hours_ago=1)]
    selection = group_articles(LoadResult(articles=tuple(articles), rejections=()), Config(), NOW)
    topic_feeds = [f for f in selection.feeds if f.kind is FeedKind.TOPIC]
    slugs = sorted(f.key for f in topic_feeds)
    assert len(set(slugs)) == 2 and slugs[0] == "c"
    assert slugs[1].startswith("c-")
    assert any("share the slug 'c'" in w for w in selection.warnings)
    # Deterministic whatever the input order.
    again = group_articles(
        LoadResult(articles=tuple(reversed(articles)), rejections=()), Config(), NOW
    )
    assert sorted(f.key for f in again.feeds if f.kind is FeedKind.TOPIC) == slugs


def test_hostile_names_become_safe_distinct_slugs() -> None:
    names = ("../../x", "/etc", "..", "🚀", "日本", "Café", "x")
    articles = [art(f"a{i}", topics=(n,)) for i, n in enumerate(names)]
    taxonomy = build_taxonomy(articles, (), ())
    slugs = [taxonomy.topics[n.casefold()].slug for n in names]
    assert len(set(slugs)) == len(names)
    for slug in slugs:
        assert slug and slug not in (".", "..")
        assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert slugify("Café") == "cafe"


def test_provider_keys_are_domains_and_hostile_domains_are_slugged() -> None:
    articles = [
        art("a", provider="CNBC.com"),
        replace(art("b"), provider=Provider(name="Evil", domain="../../etc")),
    ]
    taxonomy = build_taxonomy(articles, (), ())
    keys = sorted(p.domain for p in taxonomy.providers.values())
    assert keys == ["cnbc.com", "etc"]


def test_with_taxonomy_is_replace_for_light_and_whole_articles() -> None:
    from feedpub.model import ArticleBody, ArticleHead, ArticleKind, LinkState

    moment = datetime(2024, 5, 1, tzinfo=UTC)
    head = ArticleHead(
        "2024-05-01:k",
        "k.md",
        "Title",
        "https://a.example/k",
        moment,
        quality=7,
        heat=3,
        kind=ArticleKind.VIDEO,
        provider=Provider("P", "p.example", "https://p.example/logo.png"),
        topics=("AI", "Space"),
        draft=True,
        updated=moment + timedelta(seconds=1),
        digest="4:abc",
        link_state=LinkState.DEAD,
        modified=moment + timedelta(days=1),
        topic_slugs=("old",),
    )
    provider = Provider("Q", "q.example")
    for article in (head, head.with_body(ArticleBody("An excerpt.", "<p>x</p>"))):
        resolved = article.with_taxonomy(provider, ("ai", "space"))
        assert type(resolved) is type(article)
        assert resolved == replace(article, provider=provider, topic_slugs=("ai", "space"))
