"""Site search, run unchanged on SQLite (FTS5 trigram) and PostgreSQL (full text + pg_trgm).

The backend follows DATABASE_URL: the same tests prove both interfaces agree.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpcenter import search as site_search
from helpcenter.clients import client_ip
from helpcenter.models import Article, FaqEntry, Fix, SearchMiss
from helpcenter.ratelimit import rate_limited

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_index(db: None) -> None:
    # The SQLite FTS table is no model: a flush by an earlier transactional
    # test elsewhere leaves its rows behind, so start each test clean.
    site_search.rebuild()


def make_article(
    title: str,
    body: str = "",
    summary: str = "",
    slug: str | None = None,
    status: str = Article.Status.PUBLISHED,
    published_at: Any = "past",
) -> Article:
    when = timezone.now() - timedelta(days=1) if published_at == "past" else published_at
    return Article.objects.create(
        title=title,
        slug=slug or title.lower().replace(" ", "-")[:100],
        summary=summary,
        body=body,
        status=status,
        published_at=when,
    )


def titles(query: str) -> list[str]:
    return [hit.title for hit in site_search.search(query).hits]


def test_it_finds_words_in_titles_summaries_bodies_fixes_and_faq() -> None:
    article = make_article(
        "Error 1020 access denied",
        summary="A firewall rule blocked the request",
        body="Your browser sent something the **firewall** disliked.",
    )
    Fix.objects.create(
        article=article, title="Turn off the VPN", slug="vpn", body="Shared exit addresses."
    )
    FaqEntry.objects.create(
        article=article, question="Is my account banned?", answer="No: *quarantined* traffic."
    )

    assert titles("1020") == ["Error 1020 access denied"]
    assert titles("firewall") == ["Error 1020 access denied"]
    assert titles("VPN") == ["Turn off the VPN"]
    assert titles("addresses") == ["Turn off the VPN"]
    assert titles("banned") == ["Error 1020 access denied"]
    assert titles("quarantined") == ["Error 1020 access denied"]


def test_a_fix_hit_names_its_article_and_links_to_the_fix() -> None:
    article = make_article("Access denied", slug="access-denied")
    Fix.objects.create(article=article, title="Clear cookies", slug="clear-cookies")

    [hit] = site_search.search("cookies").hits

    assert hit.fix is not None and hit.article == article
    assert hit.url.startswith("/articles/access-denied/")
    assert "clear-cookies" in hit.url


def test_it_never_returns_drafts_or_scheduled_articles() -> None:
    make_article("Proxy troubles published")
    make_article("Proxy troubles draft", status=Article.Status.DRAFT)
    scheduled = make_article(
        "Proxy troubles scheduled", published_at=timezone.now() + timedelta(days=2)
    )
    Fix.objects.create(article=scheduled, title="Proxy fix of a future guide", slug="proxy")

    assert titles("proxy") == ["Proxy troubles published"]


def test_it_ranks_title_hits_above_body_hits() -> None:
    make_article("Browser storage", body="cookies " * 40)
    make_article("Cookies and sessions", body="Nothing else here.")
    other = make_article("Network settings", body="Also mentions cookies once.")
    Fix.objects.create(article=other, title="Delete cookies for the site", slug="delete")

    found = titles("cookies")

    assert set(found[:2]) == {"Cookies and sessions", "Delete cookies for the site"}
    assert set(found[2:]) == {"Browser storage", "Network settings"}


@pytest.mark.parametrize(
    ("typo", "expected"),
    [("cokies", "Clear your cookies"), ("extensons", "Disable browser extensions")],
)
def test_it_tolerates_small_typos(typo: str, expected: str) -> None:
    make_article("Clear your cookies", body="Old cookies can carry a stale challenge.")
    make_article("Disable browser extensions", body="Some extensions rewrite requests.")

    assert titles(typo) == [expected]


def test_it_returns_nothing_for_nonsense() -> None:
    make_article("Clear your cookies", body="Old cookies can carry a stale challenge.")

    assert site_search.search("zqxvjwk").hits == []
    assert site_search.search("   ").hits == []
    assert site_search.search("?!").hits == []


def test_cookies_does_not_find_an_article_that_only_mentions_cook() -> None:
    make_article("Kitchen notes", body="We cook dinner while the page loads.")
    make_article("Clear your cookies", body="Cookies hold the challenge pass.")

    assert titles("cookies") == ["Clear your cookies"]


def test_half_typed_words_match_as_prefixes() -> None:
    make_article("Disable browser extensions", body="Some extensions rewrite requests.")

    assert titles("extens") == ["Disable browser extensions"]
    assert titles("browser exte") == ["Disable browser extensions"]


def test_the_index_follows_saves_and_deletes() -> None:
    article = make_article("Old heading", body="Nothing special.")
    fix = Fix.objects.create(article=article, title="Restart the router", slug="router")
    entry = FaqEntry.objects.create(article=article, question="Why?", answer="Because.")

    article.title = "Captcha loop"
    article.save()
    assert titles("captcha") == ["Captcha loop"]
    assert titles("heading") == []

    entry.answer = "A stubborn turnstile widget."
    entry.save()
    assert titles("turnstile") == ["Captcha loop"]
    entry.delete()
    assert titles("turnstile") == []

    fix.delete()
    assert titles("router") == []

    article.delete()
    assert titles("captcha") == []


def test_a_save_that_changes_nothing_indexed_leaves_the_index_alone() -> None:
    article = make_article("Captcha loop", body="A stubborn turnstile widget.")
    writes = ("INSERT", "UPDATE", "DELETE")

    article.status = Article.Status.DRAFT  # not indexed: the document stays as it is
    with CaptureQueriesContext(connection) as captured:
        article.save()

    search_writes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(writes) and "search" in q["sql"].lower()
    ]
    assert search_writes == []


def test_a_changed_text_adds_its_new_words_and_drops_its_old_ones() -> None:
    article = make_article("Captcha loop", body="A stubborn turnstile widget.")

    article.body = "A stubborn quokkaesque widget."
    article.save()

    assert titles("quokkaesque") == ["Captcha loop"]
    assert titles("turnstile") == []
    backend = site_search.backend_for()
    # New words reach the vocabulary typo correction picks from; the old ones stay in it.
    assert backend.lookup(["quokkaesque", "turnstile"]) == {
        "quokkaesque": (True, True),
        "turnstile": (True, True),
    }
    assert site_search.search("quokaesque").corrected == "quokkaesque"


def test_snippets_escape_text_and_mark_matches() -> None:
    make_article(
        "Script tags",
        body="Paste `<script>alert(1)</script>` and watch the cookies vanish.",
    )

    [hit] = site_search.search("cookies <b>").hits

    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html
    assert "<mark>cookies</mark>" in hit.snippet_html
    assert "<b>" not in hit.snippet_html


def test_snippet_helper_escapes_around_marks() -> None:
    pattern = site_search.snippets._highlight_pattern(["cookie"])
    html = site_search.snippets.snippet("a <b>cookie</b> & crumbs", pattern)

    assert html == "a &lt;b&gt;<mark>cookie</mark>&lt;/b&gt; &amp; crumbs"


def test_it_searches_over_many_articles_and_respects_the_limit() -> None:
    for n in range(30):
        make_article(f"Guide number {n}", slug=f"guide-{n}", body="A shared word: gateway.")

    assert len(site_search.search("gateway", limit=5).hits) == 5
    assert len(site_search.search("gateway").hits) == 20


def test_rebuild_indexes_everything_again() -> None:
    article = make_article("Timeouts everywhere")
    Fix.objects.create(article=article, title="Wait for the timeout", slug="wait")

    assert site_search.rebuild() == 2
    assert sorted(titles("timeouts")) == ["Timeouts everywhere", "Wait for the timeout"]


def test_it_records_misses_normalised_without_visitor_data() -> None:
    site_search.record_miss("  Where   IS the Button ")
    site_search.record_miss("where is the button")
    site_search.record_miss("x" * 500)

    miss = SearchMiss.objects.get(query="where is the button")
    assert miss.count == 2
    assert SearchMiss.objects.get(query="x" * 200).count == 1
    assert {f.name for f in SearchMiss._meta.fields} == {"id", "query", "count", "last_seen"}


# --- The page -------------------------------------------------------------------------


def test_the_page_shows_ranked_results(client: Any) -> None:
    make_article("Clear your cookies", slug="clear-cookies", body="Cookies hold passes.")

    response = client.get("/search/", {"q": "cokies"})

    assert response.status_code == 200
    body = response.content.decode()
    assert '<a href="/articles/clear-cookies/">Clear your cookies</a>' in body
    assert "<mark>Cookies</mark>" in body
    assert 'hx-get="/search/"' in body and 'action="/search/"' in body
    assert "public" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]
    assert "csrftoken" not in response.cookies


def test_htmx_gets_only_the_results(client: Any) -> None:
    make_article("Clear your cookies", body="Cookies hold passes.")

    response = client.get("/search/", {"q": "cookies"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "Clear your cookies" in body
    assert "<html" not in body and "<form" not in body


def test_a_history_restore_gets_the_whole_page(client: Any) -> None:
    response = client.get(
        "/search/",
        {"q": "cookies"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )

    assert "<html" in response.content.decode()


def test_an_empty_query_prompts_and_records_nothing(client: Any) -> None:
    response = client.get("/search/", {"q": "   "})

    assert response.status_code == 200
    assert "Type a few words" in response.content.decode()
    assert not SearchMiss.objects.exists()


def test_a_query_without_results_is_counted(client: Any) -> None:
    response = client.get("/search/", {"q": "Zqxvjwk"})

    assert "Nothing matches" in response.content.decode()
    assert SearchMiss.objects.get(query="zqxvjwk").count == 1


def test_too_many_searches_get_429_with_retry_after(client: Any, settings: Any) -> None:
    settings.SEARCH_RATE_LIMIT = 3
    # A fresh /64 per run: its own counter even in a Redis shared across runs.
    network = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    address, other = f"{network}::1", f"{network[:-1]}{'1' if network[-1] != '1' else '2'}::1"

    statuses = [
        client.get("/search/", {"q": f"word{n}"}, REMOTE_ADDR=address).status_code for n in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/search/", {"q": "again"}, REMOTE_ADDR=address)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Cache-Control"] == "no-store"
    assert client.get("/search/", {"q": "again"}, REMOTE_ADDR=other).status_code == 200


def test_search_works_when_the_cache_is_down(client: Any, settings: Any) -> None:
    # Port 9 on loopback: nothing listens, so every cache call fails fast.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    # (pytest-django's settings fixture resets the cache handlers both ways.)
    make_article("Clear your cookies", body="Cookies hold passes.")

    response = client.get("/search/", {"q": "cookies"})

    assert response.status_code == 200
    assert "Clear your cookies" in response.content.decode()


# --- The client address -----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "proxies", "forwarded", "expected"),
    [
        ("REMOTE_ADDR", 0, "203.0.113.9", "10.0.0.1"),
        ("HTTP_X_FORWARDED_FOR", 1, "203.0.113.9", "203.0.113.9"),
        ("HTTP_X_FORWARDED_FOR", 1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("HTTP_X_FORWARDED_FOR", 2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        ("HTTP_X_FORWARDED_FOR", 2, "203.0.113.9", "10.0.0.1"),
        ("HTTP_X_FORWARDED_FOR", 1, "", "10.0.0.1"),
        ("HTTP_X_FORWARDED_FOR", 1, "not-an-address", "10.0.0.1"),
        ("HTTP_X_FORWARDED_FOR", 1, "2001:DB8::1", "2001:db8::1"),
        ("HTTP_X_REAL_IP", 0, "203.0.113.9", "203.0.113.9"),
    ],
)
def test_client_ip_reads_trusted_hops_from_the_right(
    settings: Any, header: str, proxies: int, forwarded: str, expected: str
) -> None:
    settings.CLIENT_IP_HEADER = header
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1")
    request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    request.META["HTTP_X_REAL_IP"] = forwarded

    assert client_ip(request) == expected


def test_ipv6_visitors_share_a_limit_per_64() -> None:
    factory = RequestFactory()
    first = factory.get("/", REMOTE_ADDR="2001:db8:1:2::a")
    neighbour = factory.get("/", REMOTE_ADDR="2001:db8:1:2::b")
    scope = f"test-{timezone.now().timestamp()}"

    assert rate_limited(first, scope, 1) is None
    assert rate_limited(neighbour, scope, 1) is not None


def test_backend_follows_the_database_vendor() -> None:
    backend = site_search.backend_for()

    expected = {"sqlite": "SqliteBackend", "postgresql": "PostgresBackend"}[connection.vendor]
    assert type(backend).__name__ == expected


# --- Ranking in tiers, one-query vocabulary look-up --------------------------------


def test_drafts_that_outrank_published_articles_do_not_crowd_them_out() -> None:
    # Publication is checked after ranking on SQLite: a page of draft title
    # hits must make it fetch further, not return too few.
    for n in range(40):
        make_article(f"Proxy draft {n}", slug=f"draft-{n}", status=Article.Status.DRAFT)
    make_article("Proxy guide", body="proxy " * 30)
    make_article("Network notes", body="Mentions a proxy once.")

    assert titles("proxy") == ["Proxy guide", "Network notes"]


def test_body_hits_fill_the_page_after_title_hits() -> None:
    for n in range(3):
        make_article(f"Gateway guide {n}", slug=f"title-{n}")
    for n in range(5):
        make_article(f"Other guide {n}", slug=f"body-{n}", body="The gateway answered.")

    found = titles("gateway")

    assert len(found) == 8
    assert all(title.startswith("Gateway guide") for title in found[:3])
    assert len(site_search.search("gateway", limit=4).hits) == 4


def test_a_trailing_stopword_does_not_turn_the_last_word_into_a_prefix() -> None:
    make_article("Disable browser extensions", body="Some extensions rewrite requests.")

    assert titles("extensions the") == ["Disable browser extensions"]
    assert titles("exte for") == []


def test_vocabulary_lookup_answers_exact_and_prefix_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    make_article("Clear your cookies", body="Old cookies can carry a stale challenge.")
    backend = site_search.backend_for()

    with django_assert_num_queries(1):
        found = backend.lookup(["cookies", "cook", "zebra", "cookies_x"])

    assert found == {
        "cookies": (True, True),
        "cook": (False, True),
        "zebra": (False, False),
        "cookies_x": (False, False),
    }


def test_a_search_for_a_known_word_costs_few_queries(django_assert_max_num_queries: Any) -> None:
    article = make_article("Clear your cookies", body="Cookies hold passes.")
    Fix.objects.create(article=article, title="Delete cookies", slug="delete")

    # Both: the synonym sets and the services (small tables, read per search so
    # an editor's change applies at once; a service the query names gets a card).
    # PostgreSQL: vocabulary; the title tier's ranked ids, then those rows with
    # their articles and fixes (one sort of narrow rows instead of whole joined
    # ones: 3 ms instead of 10-30 over 10,000 articles); the body tier.
    # SQLite (in-process, so queries are cheap): vocabulary, title tier +
    # publication check, body tier, the rows, the articles, the fixes.
    with django_assert_max_num_queries(6 if connection.vendor == "postgresql" else 9):
        hits = site_search.search("cookies").hits

    assert {hit.title for hit in hits} == {"Clear your cookies", "Delete cookies"}


def test_unpublished_matches_ranked_first_never_crowd_out_published_ones() -> None:
    """Ranking happens before the publication check (on PostgreSQL a window of ids at a
    time): a page whose best matches are all drafts still fills with published ones."""
    for n in range(8):  # equal rank, lowest ids: ranked ahead of every published match
        make_article(f"Glacier draft {n}", status=Article.Status.DRAFT)
    for n in range(4):
        make_article(f"Glacier live {n}")
    hits = site_search.search("glacier", limit=3).hits
    assert len(hits) == 3
    assert all(hit.title.startswith("Glacier live") for hit in hits)
    assert len(site_search.search("glacier", limit=20).hits) == 4


def test_highlights_mark_whole_words_only() -> None:
    pattern = site_search.snippets._highlight_pattern(["rate"])
    html = site_search.snippets.snippet("A separate rate limit", pattern)

    assert html == "A separate <mark>rate</mark> limit"


def test_plain_text_has_no_space_before_punctuation() -> None:
    text = site_search.documents.html_text(
        "<p>Codes <code>1005</code>, <code>1006</code> or <em>1106</em>.</p><p>Next</p>"
    )

    assert text == "Codes 1005, 1006 or 1106. Next"


def test_plain_text_leaves_out_the_headings_section_links() -> None:
    from helpcenter.markdown import render_markdown
    from helpcenter.search.documents import html_text

    rendered = render_markdown("## What the error means {#what}\n\nA firewall rule.").html

    assert 'class="headerlink"' in rendered  # the page has its "#" link...
    assert html_text(rendered) == "What the error means A firewall rule."  # ...the index not


def test_setup_reindexes_an_index_built_by_an_older_format_once() -> None:
    from helpcenter.models import SeededRow

    make_article("Clear your cookies", body="Cookies hold passes.")
    SeededRow.objects.filter(kind="search-index").delete()  # a site indexed before formats

    assert site_search.rebuild_if_outdated() == 1
    assert site_search.rebuild_if_outdated() is None
    assert titles("cookies") == ["Clear your cookies"]
