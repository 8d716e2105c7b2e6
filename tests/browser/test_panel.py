"""The verdict a visitor sees, end to end: real worker, real probes, real Chromium.

Each case starts from the checks page, lets the browser run its own checks,
and asserts the verdict and the first fix the report recommends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from diagnostics.management.commands.seed_rules import STARTER_RULES
from diagnostics.models import Target
from helpcenter.models import Article, Fix, Service
from tests.browser.fixtures import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STATUSPAGE = "/statuspage/{state}/api/v2/summary.json"


def load_content_and_rules() -> None:
    """The starter content and rules; any fix a rule names but the content lacks is stubbed."""
    call_command("import_content", verbosity=0)
    for spec in STARTER_RULES:
        for order, (article_slug, fix_slug) in enumerate(spec["fixes"]):
            article, _ = Article.objects.get_or_create(
                slug=article_slug,
                defaults={"title": article_slug.replace("-", " ").capitalize(),
                          "status": "published", "published_at": timezone.now()},
            )  # fmt: skip
            Fix.objects.get_or_create(
                article=article,
                slug=fix_slug,
                defaults={"title": fix_slug.replace("-", " ").capitalize(), "order": order},
            )
    call_command("seed_rules", verbosity=0)


def make_targets(edge: Any, status_url: str, browser_url: str = "") -> None:
    """ChatGPT's stand-in web app and status page (the content brought the service), a control."""
    chatgpt = Service.objects.get(slug="chatgpt")
    Target.objects.create(
        name="ChatGPT (stand-in)", slug="chatgpt-web", kind="web", url=edge.url("/ok"),
        probes=["http"], browser_check=True, browser_url=browser_url, order=10, service=chatgpt,
    )  # fmt: skip
    Target.objects.create(
        name="Status page (stand-in)", slug="status", kind="status", url=status_url,
        probes=["status"], provider="statuspage", order=30, service=chatgpt,
    )  # fmt: skip
    Target.objects.create(
        name="Control (stand-in)", slug="control", kind="control", url=edge.url("/ok"),
        probes=["http"], browser_check=True, order=90,
    )  # fmt: skip


def run_checks(page: Any, base_url: str, answer: str | None = None) -> tuple[str, str]:
    page.set_viewport_size({"width": 375, "height": 812})
    # The starter content brings two services: the press names the first.
    page.goto(f"{base_url}/checks/?service=chatgpt")
    if answer:
        page.get_by_label(answer).check()
    page.get_by_role("button", name="Run checks").click()
    # The server's verdict comes first; the one asserted is after the browser's own
    # checks reported and refined it in place (the panel then stops asking for them).
    verdict = page.locator(".run-status:not([data-browser-checks]) [data-verdict]")
    verdict.wait_for(timeout=45_000)
    first_fix = page.locator(".ranked-fixes a").first.get_attribute("data-fix") or ""
    return verdict.get_attribute("data-verdict") or "", first_fix


def test_the_visitor_sees_1020_while_the_service_is_up(
    start_web: Any, celery_worker: Any, edge: Any, status_server: Any, page: Any
) -> None:
    load_content_and_rules()
    make_targets(edge, status_server.url(STATUSPAGE.format(state="operational")))
    web = start_web()

    code, first_fix = run_checks(page, web.url, answer="The “Access denied, error code 1020” page")
    assert code == "blocked-1020"
    assert first_fix == "use-trusted-vpn-or-turn-vpn-off"
    assert "Blocked by Cloudflare (error 1020)" in page.locator(".verdict-headline").inner_text()
    assert edge.hits("/ok") >= 2  # the server's probes and the browser's own fetches
    screenshot(page, "panel-1020")
    assert page.console_errors == []


def test_an_outage_on_the_status_page_is_down_for_everyone(
    start_web: Any, celery_worker: Any, edge: Any, status_server: Any, page: Any
) -> None:
    load_content_and_rules()
    make_targets(edge, status_server.url(STATUSPAGE.format(state="outage")))
    web = start_web()

    code, first_fix = run_checks(page, web.url)
    assert code == "down-for-everyone"
    assert first_fix == "check-status-page"
    screenshot(page, "panel-down-for-everyone")
    assert page.console_errors == []


@pytest.fixture
def unreachable_service_page(playwright_instance: Any) -> Iterator[tuple[Any, int]]:
    """A separate Chromium in which service.test leads to a closed port: a real failure."""
    closed = free_port()  # bound and released: nothing listens there now
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP service.test 127.0.0.1:{closed}"]
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=args)
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    try:
        yield page, closed
    finally:
        context.close()
        browser.close()


def test_the_server_reaches_the_service_but_the_browser_cannot(
    start_web: Any,
    celery_worker: Any,
    edge: Any,
    status_server: Any,
    unreachable_service_page: tuple[Any, int],
) -> None:
    page, _ = unreachable_service_page
    load_content_and_rules()
    edge_port = edge.url("/ok").split(":")[2].split("/")[0]
    make_targets(
        edge,
        status_server.url(STATUSPAGE.format(state="operational")),
        browser_url=f"http://service.test:{edge_port}/ok",
    )
    web = start_web()

    code, first_fix = run_checks(page, web.url)
    assert code == "your-connection"
    assert first_fix == "use-trusted-vpn-or-turn-vpn-off"
    screenshot(page, "panel-browser-cannot-reach")
    # The failed fetch is the point of this test; nothing else may log an error.
    errors = page.console_errors
    assert all("net::ERR_CONNECTION_REFUSED" in e or "service.test" in e for e in errors), errors
