"""Crowd reports: one per visitor per target per hour, the 24-hour chart and the banner."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from diagnostics import crowd
from diagnostics.models import CrowdReport, Target
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
NOW = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def web() -> Target:
    return Target.objects.create(
        name="ChatGPT web app", slug="chatgpt-web", url="https://chatgpt.example/", kind="web"
    )


def _add(target: Target, at: datetime, n: int = 1) -> None:
    CrowdReport.objects.bulk_create(
        CrowdReport(target=target, visitor_hash=f"v{i}-{at.timestamp()}", created_at=at)
        for i in range(n)
    )


def _usual(target: Target, per_day: list[int]) -> None:
    """``per_day[d-1]`` reports in the 14:00 hour (NOW's hour) d days ago."""
    for day, n in enumerate(per_day, start=1):
        _add(target, NOW.replace(minute=20) - timedelta(days=day), n)


def test_a_visitor_counts_once_per_target_per_hour(web: Target, settings: Any) -> None:
    settings.CROWD_REPORT_WINDOW_SECONDS = 3600
    assert crowd.record(web, "visitor-a", NOW)
    assert not crowd.record(web, "visitor-a", NOW + timedelta(minutes=59))
    assert crowd.record(web, "visitor-b", NOW)
    assert crowd.record(web, "visitor-a", NOW + timedelta(minutes=61))
    assert CrowdReport.objects.count() == 3


def test_a_quiet_target_needs_more_than_the_minimum(web: Target, settings: Any) -> None:
    settings.CROWD_MIN_REPORTS = 5
    _usual(web, [1, 0, 2, 0, 1, 0, 0])  # median 0
    _add(web, NOW - timedelta(minutes=10), 5)
    surge = crowd.surge(web, NOW)
    assert (surge.recent, surge.usual_per_hour, surge.threshold) == (5, 0.0, 5.0)
    assert not surge.active  # must exceed, not reach
    _add(web, NOW - timedelta(minutes=29))
    assert crowd.surge(web, NOW).active


def test_a_busy_hour_raises_the_bar_to_three_times_its_median(web: Target) -> None:
    # Hourly counts 10,12,8,20,10,9,40 -> median 10 per hour -> 5 per 30 minutes -> x3 = 15.
    _usual(web, [10, 12, 8, 20, 10, 9, 40])
    _add(web, NOW - timedelta(minutes=5), 15)
    surge = crowd.surge(web, NOW)
    assert surge.usual_per_hour == 10.0 and surge.threshold == 15.0
    assert not surge.active
    _add(web, NOW - timedelta(minutes=1))
    assert crowd.surge(web, NOW).active


def test_only_the_same_hour_and_the_last_30_minutes_count(web: Target) -> None:
    _usual(web, [10] * 7)
    # Other hours of those days, and days beyond the baseline, are not "usual for this hour".
    _add(web, NOW - timedelta(days=1, hours=3), 500)
    _add(web, NOW.replace(minute=20) - timedelta(days=8), 500)
    # Older than 30 minutes, or in the future: not recent.
    _add(web, NOW - timedelta(minutes=31), 50)
    _add(web, NOW + timedelta(minutes=1), 50)
    surge = crowd.surge(web, NOW)
    assert surge.usual_per_hour == 10.0
    assert surge.recent == 0


def test_the_thresholds_are_settings(web: Target, settings: Any) -> None:
    settings.CROWD_MIN_REPORTS = 2
    settings.CROWD_FACTOR = 1.0
    _usual(web, [4] * 7)  # 4 per hour -> 2 per 30 minutes -> x1 = 2
    _add(web, NOW - timedelta(minutes=2), 3)
    surge = crowd.surge(web, NOW)
    assert surge.threshold == 2.0 and surge.active


def test_the_chart_counts_per_10_minutes_over_24_hours(web: Target) -> None:
    _add(web, NOW - timedelta(minutes=3), 4)  # 14:07, in the 14:00-14:10 bucket
    _add(web, datetime(2026, 3, 10, 9, 55, tzinfo=UTC), 2)
    _add(web, NOW - timedelta(hours=25), 9)  # outside the chart
    chart = crowd.chart(web, NOW)
    assert chart.total == 6
    assert [(bar.start.strftime("%H:%M"), bar.count) for bar in chart.bars] == [
        ("09:50", 2),
        ("14:00", 4),
    ]
    assert chart.peak is not None and chart.peak.count == 4
    assert chart.peak.height > chart.bars[0].height
    assert len(range(0, chart.width, crowd.BAR_WIDTH)) == 144


def test_the_fragment_has_a_chart_with_a_text_alternative(client: Client, web: Target) -> None:
    _add(web, datetime.now(UTC) - timedelta(minutes=1), 3)
    response = client.get("/checks/crowd/", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert re.search(r"<title id=\"crowd-title-chatgpt-web\">[^<]+</title>", svg.group(0))
    assert 'aria-describedby="crowd-desc-chatgpt-web"' in svg.group(0)
    # The sentence is on the page for everyone, and the chart points at it.
    desc = re.search(r'<p class="crowd-sentence" id="crowd-desc-chatgpt-web">([^<]+)</p>', html)
    assert desc is not None and desc.group(1).startswith("3 reports in the last 24 hours")
    assert '<table class="sr-only">' in html and "<td>3</td>" in html


def test_reporting_through_the_fragment(client: Client, web: Target) -> None:
    fragment = client.get("/checks/crowd/", headers=HTMX)
    assert "csrftoken" in fragment.cookies
    assert "no-cache" in fragment["Cache-Control"] or "max-age=0" in fragment["Cache-Control"]
    assert "I have this problem too" in fragment.content.decode()
    first = client.post("/checks/crowd/chatgpt-web/", headers=HTMX)
    assert first.status_code == 200 and "your report is counted" in first.content.decode()
    again = client.post("/checks/crowd/chatgpt-web/", headers=HTMX)
    assert "within the last hour" in again.content.decode()
    assert CrowdReport.objects.count() == 1


def test_the_banner_shows_in_the_fragment(client: Client, web: Target) -> None:
    _add(web, datetime.now(UTC) - timedelta(minutes=1), 6)
    html = client.get("/checks/crowd/", headers=HTMX).content.decode()
    assert "Many people are reporting problems with ChatGPT web app" in html


def test_without_javascript_the_form_posts_with_csrf_and_returns(web: Target) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/checks/crowd/")
    assert "<html" in page.content.decode() and "csrfmiddlewaretoken" in page.content.decode()
    assert browser.post("/checks/crowd/chatgpt-web/").status_code == 403
    token = page.cookies["csrftoken"].value
    response = browser.post("/checks/crowd/chatgpt-web/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/checks/crowd/"
    assert CrowdReport.objects.count() == 1


def test_only_enabled_web_apps_take_reports(client: Client, web: Target) -> None:
    Target.objects.create(name="Status", slug="status", url="https://s.example/", kind="status")
    assert client.post("/checks/crowd/status/").status_code == 404
    assert client.post("/checks/crowd/nope/").status_code == 404


def test_no_client_address_is_stored(client: Client, web: Target) -> None:
    address = "203.0.113.99"
    client.post("/checks/crowd/chatgpt-web/", REMOTE_ADDR=address, headers=HTMX)
    report = CrowdReport.objects.get()
    assert address not in report.visitor_hash and len(report.visitor_hash) == 64


def test_the_article_page_holds_only_the_slot(client: Client, web: Target) -> None:
    make_article()
    response = client.get("/articles/access-denied/")
    html = response.content.decode()
    assert not response.cookies and "csrfmiddlewaretoken" not in html
    assert 'hx-get="/checks/crowd/"' in html and 'href="/checks/crowd/"' in html
