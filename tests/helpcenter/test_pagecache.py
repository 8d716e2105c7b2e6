"""The server-side page cache: replays identical pages, sees every edit, fails open."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.utils import timezone

from diagnostics import csp
from diagnostics.models import Target
from helpcenter import pagecache
from helpcenter.models import Article, Category, FaqEntry, Fix
from helpcenter.redis_cache import RedisCache
from tests.conftest import skip_or_fail
from tests.helpcenter.factories import make_article

# Outside a transaction: pages rendered inside one are never cached (see pagecache).
pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/categories/errors/",
    "/articles/access-denied/",
    "/articles/access-denied/fix/step-2/",
]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    pagecache.clear()
    csp.forget_origins()
    yield
    pagecache.clear()


def _headers(response: Any) -> dict[str, str]:
    return {name: value for name, value in response.items() if name != "Date"}


def _view_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count renders: the page state lookup runs once per view call that is not a hit."""
    calls: list[str] = []
    # The article page loads its state with the article; fix pages look it up alone.
    for name in ("page_state_for_slug", "public_page"):
        original = getattr(Article, name)

        def counted(slug: str, original: Any = original) -> Any:
            calls.append(slug)
            return original(slug)

        monkeypatch.setattr(Article, name, staticmethod(counted))
    return calls


@pytest.mark.parametrize("url", PAGES)
def test_a_second_get_is_served_from_the_cache_with_the_same_bytes_and_headers(
    client: Any, django_assert_max_num_queries: Any, url: str
) -> None:
    make_article()
    article = make_article("rate-limited", fixes=0, faq=0)
    Article.objects.get(slug="access-denied").related.add(article)
    first = client.get(url)
    assert first.status_code == 200
    # At most the generation check (a database cache round trip on SQLite; 0 on Redis).
    with django_assert_max_num_queries(1):
        second = client.get(url)
    assert second.status_code == 200
    assert second.content == first.content
    assert _headers(second) == _headers(first)
    assert not second.cookies
    assert "Cookie" not in second.get("Vary", "")
    assert "public" in second["Cache-Control"]


def test_cached_article_pages_carry_the_browser_check_connect_src(client: Any) -> None:
    make_article()
    Target.objects.create(
        name="Site", slug="site", url="https://service.example/", probes=["http"],
        browser_check=True,
    )  # fmt: skip
    client.get("/articles/access-denied/")
    cached = client.get("/articles/access-denied/")
    assert "connect-src 'self' https://service.example" in cached["Content-Security-Policy"]


def test_the_view_runs_once_and_the_cache_serves_the_rest(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_article()
    calls = _view_calls(monkeypatch)
    for _ in range(3):
        assert client.get("/articles/access-denied/").status_code == 200
    assert calls == ["access-denied"]


def test_conditional_gets_are_answered_304_from_the_cache_as_without_it(
    client: Any, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any
) -> None:
    make_article()
    url = "/articles/access-denied/"
    first = client.get(url)
    # The uncached path's 304, for comparison (a 304 is never stored).
    pagecache.clear()
    uncached = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    client.get(url)  # stored again

    calls = _view_calls(monkeypatch)
    with django_assert_max_num_queries(1):
        by_etag = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    with django_assert_max_num_queries(1):
        by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert calls == []
    for cached in (by_etag, by_date):
        assert cached.status_code == uncached.status_code == 304
        assert cached.content == b""
        assert _headers(cached) == _headers(uncached)
        for name in ("ETag", "Last-Modified", "Cache-Control"):
            assert cached[name] == first[name]
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def _change(what: str) -> str:
    """Edit one thing the article page shows, as the admin would (save()); return the new text."""
    article = Article.objects.get(slug="access-denied")
    if what == "article":
        article.summary = "A brand new summary."
        article.save()
        return "A brand new summary."
    if what == "fix":
        fix = article.fixes.get(slug="step-2")
        fix.title = "A renamed fix"
        fix.save()
        return "A renamed fix"
    if what == "faq":
        entry = article.faq.first()
        assert entry is not None
        entry.question = "A reworded question?"
        entry.save()
        return "A reworded question?"
    if what == "category":
        category = Category.objects.get(slug="errors")
        category.title = "Renamed category"
        category.save()
        return "Renamed category"
    if what == "related_title":
        other = Article.objects.get(slug="rate-limited")
        other.title = "A retitled neighbour"
        other.save()
        return "A retitled neighbour"
    if what == "related_added":
        article.related.add(make_article("brand-new", fixes=0, faq=0))
        return "Guide brand-new"
    if what == "fix_added":
        Fix.objects.create(article=article, title="An added fix", slug="added", order=9)
        return "An added fix"
    if what == "faq_deleted":
        FaqEntry.objects.filter(article=article, question="Question 2?").get().delete()
        return "!Question 2?"
    raise AssertionError(what)


@pytest.mark.parametrize(
    "what",
    [
        "article", "fix", "faq", "category", "related_title", "related_added", "fix_added",
        "faq_deleted",
    ],
)  # fmt: skip
def test_an_edit_shows_on_the_next_get(client: Any, what: str) -> None:
    article = make_article()
    article.related.add(make_article("rate-limited", fixes=0, faq=0))
    url = "/articles/access-denied/"
    before = client.get(url)
    assert client.get(url)["ETag"] == before["ETag"]  # cached by now

    text = _change(what)

    after = client.get(url)
    html = after.content.decode()
    if text.startswith("!"):
        assert text[1:] not in html
    else:
        assert text in html
    if what != "category":  # the article's validators do not cover its category (yet)
        assert after["ETag"] != before["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_a_fix_edit_shows_on_the_fix_page_and_the_home_page_sees_new_articles(client: Any) -> None:
    make_article()
    client.get("/articles/access-denied/fix/step-2/")
    client.get("/")
    fix = Fix.objects.get(slug="step-2")
    fix.title = "Step two, reworded"
    fix.save()
    page = client.get("/articles/access-denied/fix/step-2/")
    assert "Step two, reworded" in page.content.decode()
    make_article("fresh-guide", fixes=0, faq=0)
    assert "Guide fresh-guide" in client.get("/").content.decode()


def test_a_renamed_slug_redirects_instead_of_serving_the_old_page(client: Any) -> None:
    article = make_article()
    assert client.get("/articles/access-denied/").status_code == 200
    article.slug = "access-denied-1020"
    article.save()
    moved = client.get("/articles/access-denied/")
    assert moved.status_code == 301
    assert moved["Location"] == "/articles/access-denied-1020/"


def _far_backstops(monkeypatch: pytest.MonkeyPatch) -> None:
    # So that only the schedule can explain a fresh page, not the lifetime backstop.
    monkeypatch.setattr(pagecache, "LIFETIME_SECONDS", 10**7)
    monkeypatch.setattr(pagecache, "RECHECK_SECONDS", 10**7)


def _publish_behind_the_orm(article: Article) -> None:
    past = timezone.now() - timedelta(seconds=1)
    Article.objects.filter(pk=article.pk).update(published_at=past)  # no signal


def test_a_scheduled_article_appears_once_its_time_passes(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _far_backstops(monkeypatch)
    make_article()
    due = timezone.now() + timedelta(hours=1)
    scheduled = make_article("coming-soon", fixes=0, faq=0, published_at=due)
    for url in ("/", "/categories/errors/"):
        assert "Guide coming-soon" not in client.get(url).content.decode()
        assert "Guide coming-soon" not in client.get(url).content.decode()  # from the cache
    assert client.get("/articles/coming-soon/").status_code == 404

    # Time passes: the database's view of it (published_at behind now, set with
    # update(), which sends no signal) and the page cache's clock.
    _publish_behind_the_orm(scheduled)
    monkeypatch.setattr(pagecache, "now", lambda: due.timestamp() + 1)

    for url in ("/", "/categories/errors/"):
        assert "Guide coming-soon" in client.get(url).content.decode()
    assert client.get("/articles/coming-soon/").status_code == 200  # 404s are never stored


def test_a_schedule_moved_by_update_is_seen_at_the_next_recheck(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """update() sends no signal: the next-publication lookup, repeated every
    RECHECK_SECONDS, is what notices an earlier time; until then the page stays."""
    _far_backstops(monkeypatch)
    monkeypatch.setattr(pagecache, "RECHECK_SECONDS", 60)
    make_article()
    scheduled = make_article(
        "coming-soon", fixes=0, faq=0, published_at=timezone.now() + timedelta(days=1)
    )
    assert "Guide coming-soon" not in client.get("/").content.decode()
    _publish_behind_the_orm(scheduled)
    assert "Guide coming-soon" not in client.get("/").content.decode()  # documented lag

    started = time.time()
    monkeypatch.setattr(pagecache, "now", lambda: started + 61)
    assert "Guide coming-soon" in client.get("/").content.decode()


def test_pages_outlive_no_backstop_for_writes_without_signals(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_article()
    client.get("/articles/access-denied/")
    Article.objects.filter(slug="access-denied").update(title="Changed behind the ORM")
    assert "Changed behind the ORM" not in client.get("/articles/access-denied/").content.decode()
    started = time.time()
    monkeypatch.setattr(pagecache, "now", lambda: started + pagecache.LIFETIME_SECONDS + 1)
    assert "Changed behind the ORM" in client.get("/articles/access-denied/").content.decode()


def _edit_in_another_process() -> None:
    """What another worker's save leaves in the shared cache: a new generation.

    (bump() would also forget this process's copy of the tag, as a local save does.)
    """
    cache.set(pagecache.GENERATION_KEY, "another-process-edited", None)
    Article.objects.filter(slug="access-denied").update(title="Edited elsewhere")


def test_a_process_trusts_the_tag_for_the_setting_then_asks_again(
    client: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PAGE_CACHE_TAG_SECONDS = 5
    started = time.time()
    monkeypatch.setattr(pagecache, "now", lambda: started)
    make_article()
    client.get("/articles/access-denied/")
    _edit_in_another_process()
    html = client.get("/articles/access-denied/").content.decode()
    assert "Edited elsewhere" not in html  # within the tag's lifetime: the documented lag
    monkeypatch.setattr(pagecache, "now", lambda: started + 5.1)
    assert "Edited elsewhere" in client.get("/articles/access-denied/").content.decode()


def test_a_local_edit_or_a_due_publication_does_not_wait_for_the_tag(
    client: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PAGE_CACHE_TAG_SECONDS = 3600
    _far_backstops(monkeypatch)
    started = time.time()
    monkeypatch.setattr(pagecache, "now", lambda: started)
    make_article()
    due = timezone.now() + timedelta(seconds=30)
    scheduled = make_article("coming-soon", fixes=0, faq=0, published_at=due)
    client.get("/")
    client.get("/articles/access-denied/")

    article = Article.objects.get(slug="access-denied")
    article.summary = "Saved in this process."
    article.save()
    assert "Saved in this process." in client.get("/articles/access-denied/").content.decode()

    assert "Guide coming-soon" not in client.get("/").content.decode()
    _publish_behind_the_orm(scheduled)
    monkeypatch.setattr(pagecache, "now", lambda: due.timestamp() + 1)
    assert "Guide coming-soon" in client.get("/").content.decode()


@pytest.mark.redis
def test_the_redis_cache_reuses_one_client_object(settings: Any) -> None:
    """Building a redis.Redis per call cost more than the round trip (redis_cache.py)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        skip_or_fail("needs Redis (set REDIS_URL): the cache is not Redis here")
    first = backend._cache.get_client()
    backend.set("reuse-check", 1)
    assert backend.get("reuse-check") == 1
    assert backend._cache.get_client() is first
    assert backend._cache.get_client(write=True) is first  # one server: one pool, one client


class _BrokenCache:
    """A cache whose server is gone: every call raises, as redis-py does."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("cache server unreachable")

        return fail


def test_a_failing_cache_means_rendering_never_an_error(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_article()
    expected = client.get("/articles/access-denied/fix/step-1/")
    monkeypatch.setattr(pagecache, "cache", _BrokenCache())
    calls = _view_calls(monkeypatch)
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
    again = client.get("/articles/access-denied/fix/step-1/")
    assert again.content == expected.content
    assert len(calls) == 3  # article, fix, fix again: each rendered, none served stale
    # Saving with the cache down works too (the admin must keep working).
    fix = Fix.objects.get(slug="step-1")
    fix.title = "Saved while the cache was down"
    fix.save()
    html = client.get("/articles/access-denied/fix/step-1/").content.decode()
    assert "Saved while the cache was down" in html


def test_gunicorn_with_a_dead_redis_still_serves_pages(start_web: Any) -> None:
    """The production path: RedisCache against a port nobody listens on."""
    make_article()
    from diagnostics.standins.nginx import free_port

    web = start_web(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    for url in [*PAGES, *PAGES]:
        try:
            with urllib.request.urlopen(f"{web.url}{url}", timeout=30) as response:
                status = response.status
                body = response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        assert status == 200, (url, body[:500])


def test_a_new_release_never_replays_the_pages_an_older_one_stored(
    client: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any
) -> None:
    # A deploy that changes a template or a static file: pages stored by the old
    # release have its markup and hashed static links, so new processes render afresh.
    extra = tmp_path / "templates"
    extra.mkdir()
    (extra / "release-note.html").write_text("first release")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], extra]}
    ]
    make_article()
    calls = _view_calls(monkeypatch)
    client.get("/articles/access-denied/")

    (extra / "release-note.html").write_text("second release")
    client.get("/articles/access-denied/")
    assert calls == ["access-denied"]  # a running process keeps the release it started with
    pagecache.release.cache_clear()  # a process started after the deploy
    client.get("/articles/access-denied/")
    assert calls == ["access-denied", "access-denied"]

    # The same static files in another folder are the same release: still replayed.
    static = shutil.copytree(settings.STATIC_ROOT, tmp_path / "static")
    settings.STATIC_ROOT = str(static)
    client.get("/articles/access-denied/")
    assert calls == ["access-denied"] * 2
    # A release that changed only a static file: its manifest differs.
    manifest = static / "staticfiles.json"
    manifest.write_text(manifest.read_text() + "\n")
    pagecache.release.cache_clear()  # a process started after that deploy
    client.get("/articles/access-denied/")
    assert calls == ["access-denied"] * 3
