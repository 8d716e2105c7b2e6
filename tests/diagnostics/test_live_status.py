"""The live status fragment: stored results only, with their age."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from diagnostics.models import CheckRun, ProbeResult, ProbeSample, Target
from diagnostics.status.live import describe_age, live_rows
from helpcenter.models import Fix
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def status_page() -> Target:
    return Target.objects.create(
        name="Example status page",
        slug="example-status",
        url="https://status.example/api/v2/summary.json",
        kind="status",
        probes=["status"],
        provider="statuspage",
    )


def test_it_says_not_checked_yet_then_shows_the_age(client: Client, status_page: Target) -> None:
    html = client.get("/checks/live/", headers=HTMX).content.decode()
    assert "Example status page" in html and "not checked yet" in html
    ProbeSample.objects.create(
        target=status_page,
        region="default",
        probe="status",
        outcome="down",
        summary="The status page reports a major outage.",
        evidence={"state": "major_outage"},
        probed_at=timezone.now() - timedelta(seconds=40),
    )
    html = client.get("/checks/live/", headers=HTMX).content.decode()
    assert "not checked yet" not in html
    assert "Major outage" in html
    assert "checked <time" in html
    assert any(f"{n} s ago" in html for n in range(40, 50))


def test_a_visitors_newer_result_wins_over_the_last_sample(status_page: Target) -> None:
    now = timezone.now()
    ProbeSample.objects.create(
        target=status_page, region="default", probe="status", outcome="ok",
        summary="All fine.", evidence={"state": "operational"},
        probed_at=now - timedelta(minutes=5),
    )  # fmt: skip
    run = CheckRun.objects.create(id=uuid.uuid4())
    ProbeResult.objects.create(
        run=run, target=status_page, region="default", probe="status", outcome="degraded",
        summary="Slow.", evidence={"state": "degraded"}, created_at=now - timedelta(seconds=5),
    )  # fmt: skip
    (row,) = live_rows(now)
    assert row.label == "Degraded performance" and row.age == "5 s"


def test_the_fragment_is_uncached_and_sends_nothing_out(
    client: Client, status_page: Target
) -> None:
    response = client.get("/checks/live/", headers=HTMX)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert 'href="/status/"' in response.content.decode()


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0 s"), (40, "40 s"), (150, "2 min"), (7300, "2 h"), (200000, "2 days")],
)
def test_ages_read_naturally(seconds: int, words: str) -> None:
    assert describe_age(seconds) == words


def test_the_status_fix_pages_carry_the_slot(client: Client, settings: Any) -> None:
    settings.LIVE_STATUS_FIX_SLUGS = ["step-2"]
    make_article()
    assert Fix.objects.get(slug="step-2").shows_live_status
    fix_page = client.get("/articles/access-denied/fix/step-2/")
    other = client.get("/articles/access-denied/fix/step-1/")
    article = client.get("/articles/access-denied/")
    assert 'hx-get="/checks/live/"' in fix_page.content.decode()
    assert 'href="/status/"' in fix_page.content.decode()
    assert 'hx-get="/checks/live/"' not in other.content.decode()
    assert article.content.decode().count('hx-get="/checks/live/"') == 1
    for response in (fix_page, article):
        assert not response.cookies and "csrfmiddlewaretoken" not in response.content.decode()
