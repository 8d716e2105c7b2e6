"""What fault tests do through the front door: open a guide, start checks, read the report."""

from __future__ import annotations

from typing import Any

import httpx
from django.utils import timezone

from diagnostics.models import Target
from helpcenter.models import Article
from tests.conftest import wait_for

HTMX = {"HX-Request": "true"}


def publish_guide(slug: str = "guide") -> Article:
    return Article.objects.create(
        title="Access denied (error 1020)",
        slug=slug,
        body="## What it means {#what-it-means}\n\nA firewall rule matched.",
        status="published",
        published_at=timezone.now(),
    )


def add_target(url: str, **fields: Any) -> Target:
    defaults: dict[str, Any] = {"name": "Service", "slug": "service", "probes": ["http"]}
    return Target.objects.create(url=url, **{**defaults, **fields})


def start_checks(browser: httpx.Client, article: str = "guide") -> httpx.Response:
    """Press "Run checks" as htmx does: panel first (it sets the CSRF cookie), then POST."""
    panel = browser.get(f"/checks/panel/?article={article}")
    assert panel.status_code == 200
    token = browser.cookies["csrftoken"]
    return browser.post(
        "/checks/", data={"article": article}, headers={"X-CSRFToken": token, **HTMX}
    )


def run_id_from(response: httpx.Response) -> str:
    import re

    found = re.search(r'hx-get="/checks/([0-9a-f-]{36})/"', response.text) or re.search(
        r"/checks/([0-9a-f-]{36})/", response.text
    )
    assert found, response.text[:2000]
    return found.group(1)


def poll_until_stopped(browser: httpx.Client, run_id: str, timeout: float = 90) -> httpx.Response:
    """Poll the report partial like the panel does until it answers 286 (stop polling)."""

    def stopped() -> httpx.Response | None:
        response = browser.get(f"/checks/{run_id}/", headers=HTMX)
        assert response.status_code < 500, response.text[:2000]
        return response if response.status_code == 286 else None

    return wait_for(stopped, timeout=timeout, interval=0.2)
