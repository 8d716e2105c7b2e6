"""Faults of the moving parts: the site keeps serving articles whatever happens to checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.utils import timezone

from diagnostics.models import CheckRun, Target
from helpcenter.models import Article
from tests.conftest import free_port


@pytest.mark.django_db(transaction=True)
def test_with_redis_unreachable_articles_load_and_checks_say_unavailable(start_web: Any) -> None:
    Article.objects.create(
        title="Guide",
        slug="guide",
        body="## Hello {#hello}",
        status="published",
        published_at=timezone.now(),
    )
    Target.objects.create(name="S", slug="s", url="https://service.test/", probes=["http"])
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    web = start_web(REDIS_URL=dead_redis)

    with httpx.Client(base_url=web.url, timeout=20) as browser:
        assert browser.get("/articles/guide/").status_code == 200
        panel = browser.get("/checks/panel/")
        assert panel.status_code == 200
        token = browser.cookies["csrftoken"]
        started = browser.post(
            "/checks/",
            data={"article": "guide"},
            headers={"X-CSRFToken": token, "HX-Request": "true"},
        )
    assert started.status_code in (200, 286)
    assert "Checks are unavailable right now" in started.text
    assert CheckRun.objects.get().state == CheckRun.State.UNAVAILABLE
