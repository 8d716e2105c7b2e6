"""A visitor opens the guide, presses "Run checks" and sees the result appear."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from diagnostics.models import Target
from helpcenter.models import Article
from tests.browser.fixtures import screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("guide"),
]


@pytest.fixture
def guide() -> Article:
    return Article.objects.create(
        title="Access denied (error 1020)",
        slug="access-denied-1020",
        body="## What it means {#what-it-means}\n\nA firewall rule matched your request.",
        status="published",
        published_at=timezone.now(),
    )


def test_a_visitor_runs_checks_from_the_article(
    start_web: Any, celery_worker: Any, edge: Any, page: Any
) -> None:
    Target.objects.create(
        name="ChatGPT (stand-in)", slug="svc", url=edge.url("/ok"), probes=["http"]
    )
    web = start_web()

    page.goto(f"{web.url}/articles/access-denied-1020/")
    button = page.get_by_role("button", name="Run checks")
    button.wait_for()  # the panel fragment replaced the no-JS link
    button.click()
    page.get_by_text("All 1 check done").wait_for(timeout=30_000)
    assert page.locator(".result.outcome-ok").count() == 1
    assert "ChatGPT (stand-in)" in page.locator(".results").inner_text()
    screenshot(page, "run-checks-result")
    # The panel polled on its back-off schedule until the answer came.
    assert page.locator("[data-poll-schedule]").count() == 0

    # The next visitor's press is answered from the fresh result, in the press's response.
    page.context.clear_cookies()
    page.goto(f"{web.url}/articles/access-denied-1020/")
    page.get_by_role("button", name="Run checks").click()
    page.get_by_text("All 1 check done").wait_for(timeout=30_000)
    assert edge.hits("/ok") == 1
    assert page.console_errors == []


def test_a_form_whose_token_is_older_than_the_cookie_still_posts(
    start_web: Any, celery_worker: Any, edge: Any, page: Any
) -> None:
    # On a first visit several fragments load at once and each sets a fresh
    # CSRF cookie, so the panel's hidden token can be older than the cookie.
    Target.objects.create(name="Service", slug="svc", url=edge.url("/ok"), probes=["http"])
    web = start_web()

    page.goto(f"{web.url}/articles/access-denied-1020/")
    button = page.get_by_role("button", name="Run checks")
    button.wait_for()
    old = page.context.cookies()
    page.context.clear_cookies()
    page.evaluate("fetch('/checks/panel/', {credentials: 'same-origin'})")
    page.wait_for_function("document.cookie.includes('csrftoken=')")
    assert page.context.cookies() != old  # a new secret: the form's token is stale now
    button.click()
    page.get_by_text("All 1 check done").wait_for(timeout=30_000)
    assert page.locator(".result.outcome-ok").count() == 1


def test_a_visitor_over_the_limit_reads_when_to_try_again(
    start_web: Any, celery_worker: Any, edge: Any, page: Any
) -> None:
    # htmx leaves a 429 unswapped unless the form opted in: the press must not look dead.
    Target.objects.create(name="Service", slug="svc", url=edge.url("/ok"), probes=["http"])
    web = start_web(CHECKS_RATE_PER_VISITOR="1")

    page.goto(f"{web.url}/articles/access-denied-1020/")
    page.get_by_role("button", name="Run checks").click()
    page.get_by_text("All 1 check done").wait_for(timeout=30_000)

    page.goto(f"{web.url}/articles/access-denied-1020/")
    page.get_by_role("button", name="Run checks").click()
    notice = page.get_by_role("status").filter(has_text="You have started a lot of checks")
    notice.wait_for()
    assert "Please try again in about" in notice.inner_text()
    # The form stays, so the visitor can press again once the wait is over.
    assert page.get_by_role("button", name="Run checks").is_visible()
    screenshot(page, "run-checks-too-many")
