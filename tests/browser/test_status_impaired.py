"""In Chromium: with every control failing, the status pages and the live status on an
"is it down?" fix say our own checks could not reach the internet, never a red Error."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from diagnostics.models import ProbeSample
from diagnostics.tasks import sample_region
from tests.browser.fixtures import screenshot
from tests.conftest import wait_for
from tests.diagnostics.test_impaired_status import IMPAIRED, offline_targets
from tests.helpcenter.factories import make_article

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def dead_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


def assert_cant_tell(text: str) -> None:
    assert IMPAIRED in text and "so we can't tell" in text
    for failure in ("Error", "Down", "Up 0%"):
        assert failure not in text


def test_every_status_surface_says_impaired_in_a_browser(
    page: Any, start_web: Any, celery_worker: Any
) -> None:
    targets = offline_targets(dead_port())
    make_article()  # its second fix carries the live status slot (LIVE_STATUS_FIX_SLUGS)
    # Sampled by the real worker (the probes' event loop cannot share this thread's,
    # which Playwright holds), then settled: all four samples not measured.
    sample_region.delay("default")
    samples = ProbeSample.objects.filter(target__in=targets.values(), measured=False)
    wait_for(lambda: samples.count() == len(targets), timeout=60)
    web = start_web(LIVE_STATUS_FIX_SLUGS="step-2")
    page.set_viewport_size({"width": 375, "height": 800})

    page.goto(f"{web.url}/articles/access-denied/fix/step-2/")
    page.locator(".live-status").scroll_into_view_if_needed()  # htmx loads it when revealed
    rows = page.locator(".live-rows")
    rows.wait_for()
    assert_cant_tell(rows.inner_text())
    assert rows.locator(".live-impaired").count() == 2  # the web app and the status page
    screenshot(page, "status-impaired-live-375")

    page.goto(f"{web.url}/status/")
    assert_cant_tell(page.locator("main").inner_text())
    assert page.locator(".state-impaired").count() == len(targets)
    screenshot(page, "status-impaired-overview-375")

    page.goto(f"{web.url}/status/{targets['web'].slug}/")
    assert_cant_tell(page.locator("main").inner_text())
    screenshot(page, "status-impaired-target-375")
    assert page.console_errors == []
