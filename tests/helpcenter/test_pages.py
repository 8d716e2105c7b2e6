"""The public pages: what they show, that caches may share them, and conditional GETs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpcenter.models import Article, Category, Fix
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db


def _assert_shareable(response: Any) -> None:
    assert response.status_code == 200
    assert not response.cookies, "a cookie would stop shared caches"
    assert "Cookie" not in response.get("Vary", "")
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert "public" in response["Cache-Control"]
    assert response.has_header("ETag")
    assert response.has_header("Last-Modified")


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/categories/errors/",
        "/articles/access-denied/",
        "/articles/access-denied/fix/step-2/",
    ],
)
def test_it_serves_shareable_pages_and_answers_conditional_gets(client: Any, url: str) -> None:
    make_article()
    first = client.get(url)
    _assert_shareable(first)

    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304

    since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


@pytest.mark.parametrize(
    "change",
    ["fix", "faq", "delete_fix", "article"],
)
def test_the_etag_changes_when_the_article_or_its_parts_change(client: Any, change: str) -> None:
    article = make_article()
    url = article.get_absolute_url()
    etag = client.get(url)["ETag"]
    if change == "fix":
        fix = article.fixes.first()
        assert fix is not None
        fix.title = "Renamed"
        fix.save()
    elif change == "faq":
        entry = article.faq.first()
        assert entry is not None
        entry.answer = "Changed."
        entry.save()
    elif change == "delete_fix":
        Fix.objects.filter(pk=article.fixes.last().pk).delete()  # type: ignore[union-attr]
    else:
        article.summary = "New summary."
        article.save()
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_the_category_etag_follows_the_category_and_its_articles(client: Any) -> None:
    article = make_article()
    etag = client.get("/categories/errors/")["ETag"]
    Category.objects.filter(slug="errors").update(description="New words.")  # no save()
    assert client.get("/categories/errors/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    category = Category.objects.get(slug="errors")
    category.description = "New words."
    category.save()
    changed = client.get("/categories/errors/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    article.status = Article.Status.DRAFT
    article.save()
    assert client.get("/categories/errors/", HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200
    missing = client.get("/categories/nowhere/")
    assert missing.status_code == 404 and not missing.has_header("ETag")


def test_the_article_page_shows_toc_fixes_faq_related_and_breadcrumbs(client: Any) -> None:
    article = make_article()
    other = make_article("rate-limited", fixes=0, faq=0)
    article.related.add(other)
    html = client.get(article.get_absolute_url()).content.decode()

    assert 'href="#what-it-means"' in html  # table of contents from the headings
    assert 'href="#fix-step-1"' in html
    assert 'id="fix-step-2"' in html
    assert 'href="/articles/access-denied/fix/step-2/"' in html
    assert html.count('class="copy-link"') == 3
    assert "Question 2?" in html
    assert 'href="/articles/rate-limited/"' in html
    assert 'aria-label="Breadcrumb"' in html
    assert 'href="/categories/errors/"' in html
    assert "Last updated" in html
    assert "diagnostics:panel" not in html and 'id="checks-panel"' in html


def test_the_fix_page_puts_the_fix_first_then_the_others(client: Any) -> None:
    make_article(fixes=7)
    html = client.get("/articles/access-denied/fix/step-2/").content.decode()

    assert "Fix 2 of 7" in html
    assert "<title>Try step 2 — Guide access-denied · " in html
    assert html.index("<h1>Try step 2</h1>") < html.index(
        'href="/articles/access-denied/fix/step-5/"'
    )
    assert "<strong>step 2</strong>" in html
    assert 'href="/articles/access-denied/#fix-step-2"' in html  # back to the guide


def test_the_home_page_lists_categories_and_their_articles(client: Any) -> None:
    make_article()
    browser = Category.objects.create(slug="browser", title="Browser fixes", order=5)
    make_article("cookies", category=browser)
    make_article("secret-draft", status="draft")
    html = client.get("/").content.decode()
    assert html.index("Errors") < html.index("Browser fixes") < html.index("Guide cookies")
    assert "secret-draft" not in html


def test_a_category_page_lists_only_its_published_articles(client: Any) -> None:
    make_article()
    make_article("scheduled", published_at=timezone.now() + timedelta(days=1))
    html = client.get("/categories/errors/").content.decode()
    assert "Guide access-denied" in html
    assert "scheduled" not in html
    assert client.get("/categories/nowhere/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/articles/no-such-guide/",
        "/articles/access-denied/fix/no-such-fix/",
        "/articles/no-such-guide/fix/step-1/",
        "/articles/draft-guide/",
        "/articles/draft-guide/fix/step-1/",
        "/nowhere/at/all/",
    ],
)
def test_unknown_pages_get_a_helpful_404(client: Any, url: str) -> None:
    make_article()
    make_article("draft-guide", status="draft")
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert 'action="/search/"' in html and 'name="q"' in html
    assert 'href="/articles/access-denied/"' in html  # a guide to start from


def test_every_page_has_the_search_form_in_the_header(client: Any) -> None:
    # The home and search pages are the exception: their own large box is the one
    # search box (tests/browser/test_search_layout.py).
    make_article()
    for url in ("/articles/access-denied/", "/articles/access-denied/fix/step-1/", "/privacy/"):
        html = client.get(url).content.decode()
        header = html.split('<header class="site-header">')[1].split("</header>")[0]
        assert 'action="/search/"' in header and 'name="q"' in header
        assert '<label class="sr-only" for="site-search-q">' in header


def _content_queries(captured: Any) -> list[str]:
    # The embedded default's cache is a table too: only the content's queries count here.
    return [
        q["sql"]
        for q in captured
        if "helpcenter_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


@pytest.mark.parametrize("count", [2, 12])
def test_the_article_page_query_count_does_not_grow_with_fixes_and_faq(
    client: Any, count: int
) -> None:
    article = make_article(fixes=count, faq=count)
    article.related.add(make_article("other", fixes=0, faq=0))
    with CaptureQueriesContext(connection) as first:
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('class="fix"') == count
    # article + validators, fixes, FAQ, related (and at most the schedule lookup)
    assert len(_content_queries(first)) in (4, 5)


def test_a_page_cache_miss_reuses_the_articles_fragments_until_it_changes(client: Any) -> None:
    """Any edit retires every stored page; the article's own parts are kept by its revision."""
    article = make_article(fixes=3, faq=2)
    url = article.get_absolute_url()
    html = client.get(url).content
    make_article("elsewhere", fixes=0, faq=0)  # an edit to another page
    with CaptureQueriesContext(connection) as again:
        same = client.get(url)
    assert same.content == html
    # (The edit also made the page cache look up the next scheduled publication again.)
    queries = [sql for sql in _content_queries(again) if "MIN(" not in sql]
    assert len(queries) == 1 and "helpcenter_fix" in queries[0]  # the validators' subquery
    assert not any('helpcenter_faqentry"."question' in sql for sql in queries)

    fix = article.fixes.first()
    assert fix is not None
    fix.title = "Renamed step"
    fix.save()
    assert "Renamed step" in client.get(url).content.decode()
    category = Category.objects.get(slug="errors")
    category.title = "Error pages"
    category.save()
    # In the breadcrumbs (the frame) and in the structured data (a fragment).
    assert client.get(url).content.decode().count("Error pages") == 2


@pytest.mark.parametrize("count", [2, 12])
def test_the_fix_page_query_count_does_not_grow_with_fixes(
    client: Any, django_assert_num_queries: Any, count: int
) -> None:
    make_article(fixes=count)
    # state, article, fix, the list of fixes
    with django_assert_num_queries(4):
        assert client.get("/articles/access-denied/fix/step-1/").status_code == 200


def test_a_scheduled_article_appears_when_its_time_comes(client: Any) -> None:
    article = make_article(published_at=timezone.now() + timedelta(hours=1))
    assert client.get(article.get_absolute_url()).status_code == 404
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now())
    assert client.get(article.get_absolute_url()).status_code == 200


def test_tab_sets_of_different_fixes_have_distinct_ids_without_javascript(client: Any) -> None:
    article = make_article(fixes=2)
    tabs = '=== "Chrome"\n\n    a\n\n=== "Firefox"\n\n    b\n'
    for fix in article.fixes.all():
        fix.body = tabs
        fix.save()
    html = client.get("/articles/access-denied/").content.decode()

    ids = re.findall(r'<input[^>]* id="(__tabbed_[^"]+)"', html)
    assert len(ids) == 4
    assert len(set(ids)) == 4


@pytest.mark.django_db
def test_the_home_page_routes_by_search_code_symptom_and_checks(client: Any) -> None:
    from django.core.management import call_command

    call_command("import_content", verbosity=0)

    body = client.get("/").content.decode()

    assert body.count('type="search"') == 1  # the large box; the header's is left out
    assert 'action="/search/"' in body
    assert 'href="/checks/"' in body and ">Run checks<" in body
    # Codes come from the guides' titles, each linking to its guide.
    assert 'href="/articles/chatgpt-access-denied-1020/" aria-label="Error 1020:' in body
    assert 'aria-label="Error 1015:' in body and 'aria-label="Error 522:' in body
    # Each service's live state arrives by htmx; without JavaScript, a plain link to it.
    assert 'hx-get="/checks/live/services/"' in body and 'href="/checks/live/services/"' in body
    assert "Start from what you see" in body


def test_error_codes_are_read_from_titles_one_link_per_code() -> None:
    from helpcenter.codes import code_links
    from helpcenter.models import Article

    first = Article(title="Error 1020 and 1015", slug="a")
    second = Article(title="Errors 1015, 522 or 524 (the 2024 edition)", slug="b")

    links = code_links([first, second])

    # A code links to the first guide naming it; a year is not an error code.
    assert [(link.code, link.article.slug) for link in links] == [
        ("522", "b"),
        ("524", "b"),
        ("1015", "a"),
        ("1020", "a"),
    ]
