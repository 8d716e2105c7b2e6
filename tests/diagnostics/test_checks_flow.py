"""The whole path: button → run → Celery worker → real probe → result through the views."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from diagnostics.models import CheckRun, Target
from helpcenter.models import Article
from tests.conftest import wait_for

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def article(db: None) -> Article:
    return Article.objects.create(
        title="Access denied (error 1020)",
        slug="access-denied-1020",
        summary="What the block means and what to try.",
        body="## What it means {#what-it-means}\n\nA firewall rule matched.",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now(),
    )


def make_target(url: str, **fields: Any) -> Target:
    defaults = {
        "name": "Service",
        "slug": "service",
        "probes": ["http"],
        "expected_statuses": [200],
    }
    return Target.objects.create(url=url, **{**defaults, **fields})


def csrf_client(client: Client) -> Client:
    """A client that enforces CSRF like a browser, holding the cookie the panel sets."""
    strict = Client(enforce_csrf_checks=True)
    response = strict.get("/checks/panel/?article=access-denied-1020")
    assert "csrftoken" in response.cookies
    return strict


def poll_until_stopped(client: Client, url: str) -> Any:
    def stopped() -> Any:
        response = client.get(url, **HTMX)
        return response if response.status_code == 286 else None

    return wait_for(stopped, timeout=30, interval=0.1)


@pytest.mark.django_db
def test_it_serves_the_article_without_cookies_or_tokens(client: Client, article: Article) -> None:
    response = client.get("/articles/access-denied-1020/")
    assert response.status_code == 200
    assert not response.cookies
    html = response.content.decode()
    assert "csrfmiddlewaretoken" not in html
    assert 'id="what-it-means"' in html and 'href="#what-it-means"' in html
    # Without JavaScript the panel slot is a plain link to the checks page.
    assert 'href="/checks/?article=access-denied-1020"' in html
    assert "public" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_panel_sets_the_csrf_cookie_and_is_not_cached(client: Client) -> None:
    response = client.get("/checks/panel/")
    assert "csrftoken" in response.cookies
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(client: Client) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/checks/", {"article": "x"}).status_code == 403


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_runs_a_real_probe_through_the_worker(
    client: Client, article: Article, edge: Any, celery_worker: Any
) -> None:
    make_target(edge.url("/ok"))
    browser = csrf_client(client)
    token = browser.cookies["csrftoken"].value

    started = browser.post("/checks/", {"article": article.slug}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert started.status_code == 200
    run = CheckRun.objects.get()
    assert f'hx-get="/checks/{run.id}/?seen=' in started.content.decode()

    final = poll_until_stopped(browser, f"/checks/{run.id}/")
    html = final.content.decode()
    assert "All 1 check done" in html
    assert re.search(r"outcome-ok", html)
    assert edge.hits("/ok") == 1
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    assert run.results.get().outcome == "ok"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_hanging_target_gives_a_timeout_not_a_stuck_run(
    client: Client, edge: Any, celery_worker: Any
) -> None:
    make_target(edge.url("/hang"), timeout_seconds=0.5)
    browser = csrf_client(client)
    response = browser.post("/checks/", {}, HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 302
    run = CheckRun.objects.get()
    wait_for(lambda: CheckRun.objects.get(pk=run.pk).state == CheckRun.State.COMPLETE)
    assert run.results.get().outcome == "timeout"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_form_leads_to_a_self_refreshing_report(
    client: Client, edge: Any, celery_worker: Any
) -> None:
    make_target(edge.url("/ok"))
    page = client.get("/checks/?article=access-denied-1020")
    assert "csrfmiddlewaretoken" in page.content.decode()
    response = client.post("/checks/", {"article": "access-denied-1020"}, follow=False)
    assert response.status_code == 302
    report = client.get(response["Location"])
    assert 'name="robots" content="noindex"' in report.content.decode()
    run = CheckRun.objects.get()
    wait_for(lambda: CheckRun.objects.get(pk=run.pk).state == CheckRun.State.COMPLETE)
    final = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in final
    assert "All 1 check done" in final


@pytest.mark.django_db
def test_with_no_worker_the_run_says_checks_are_delayed(
    client: Client, settings: Any, edge: Any
) -> None:
    # A region no worker consumes: the message waits in the broker, nobody answers.
    settings.CHECKS_REGION = "nowhere"
    settings.CHECKS_DELAYED_AFTER = 0.2
    make_target(edge.url("/ok"))
    browser = csrf_client(client)
    browser.post("/checks/", {}, HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    run = CheckRun.objects.get()
    final = poll_until_stopped(browser, f"/checks/{run.id}/")
    assert "Checks are delayed" in final.content.decode()
    assert edge.hits("/ok") == 0
