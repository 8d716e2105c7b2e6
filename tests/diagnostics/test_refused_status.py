"""A target that Cloudflare refuses to *our* server is neither up nor down on any status surface.

Real sample rows as the beat stores them (a 1020 answer: outcome "blocked", the
Cloudflare code and Ray ID in the evidence) are read back through the overview,
the target's page, the daily rollup and the live status of the "is it down?" fix.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from diagnostics import charts
from diagnostics.models import DailyRollup, ProbeSample, Target
from diagnostics.status.live import live_rows
from tests.diagnostics.test_impaired_status import visible_text
from tests.diagnostics.test_status_pages import card, make_target

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
BLOCK_1020 = {
    "status": 403,
    "cloudflare": {"code": "1020", "kind": "block", "ray_id": "8f0c1a2b3c4d5e6f", "colo": "FRA"},
}


def refused(target: Target, ago: timedelta, outcome: str = "blocked") -> ProbeSample:
    return ProbeSample.objects.create(
        target=target,
        region="default",
        probe="http",
        outcome=outcome,
        summary="Cloudflare blocked the request (error 1020)",
        latency_ms=35.0,
        evidence=BLOCK_1020 if outcome == "blocked" else {"status": 403},
        probed_at=timezone.now() - ago,
    )


def ok(target: Target, ago: timedelta) -> ProbeSample:
    return ProbeSample.objects.create(
        target=target, region="default", probe="http", outcome="ok", summary="200 OK",
        latency_ms=120.0, probed_at=timezone.now() - ago,
    )  # fmt: skip


@pytest.fixture
def blocked_target() -> Target:
    """Twelve checks over three days, every one answered with a 1020 page."""
    target = make_target(name="ChatGPT web app")
    for i in range(12):
        refused(target, timedelta(hours=6 * i, minutes=1))
    return target


def test_the_overview_says_blocked_for_our_server_not_up_zero(
    client: Client, blocked_target: Target
) -> None:
    html = card(client.get("/status/").content.decode(), blocked_target.slug)
    text = visible_text(html)
    assert "Up 0%" not in html and " 0%" not in text
    assert "Blocked for our server" in text
    assert (
        "Blocked for our server in 12 of 12 checks over the last 90 days; we can't see "
        "whether it's up for you."
    ) in text
    assert (
        "No uptime measured: Blocked for our server in 12 of 12 checks over the last 90 days. "
        "The service answered, but refused our checks, so we can't see whether it is up for you."
    ) in text
    # Neither the red of a failing day nor the green of an up day: the refused colour.
    assert charts.FILL_DOWN not in html and charts.FILL_UP not in html
    days = {s.probed_at.date() for s in ProbeSample.objects.filter(target=blocked_target)}
    assert html.count(f'fill="{charts.FILL_REFUSED}"') == len(days)
    assert 'class="bar bar-blocked-for-our-server"' in html
    assert "state-blocked" in html


def test_the_target_page_and_its_legend_say_the_same(
    client: Client, blocked_target: Target
) -> None:
    page = client.get(f"/status/{blocked_target.slug}/").content.decode()
    text = visible_text(page)
    assert "Up 0%" not in text
    assert "Blocked for our server in 12 of 12 checks" in text
    assert "blocked for our server: the service answered, but refused our checks" in text
    assert "swatch-refused" in page
    # The latency line times the service, not Cloudflare's edge refusing us.
    # 24 hours hold four or five of the twelve checks, 6 hours apart.
    assert re.search(
        r"No response times: [45] checks in the last 24 hours were blocked for our server, "
        r"and a refusal's timing is not the service's\.",
        text,
    )
    assert "Not checked in the last 24 hours" not in text


def test_blocked_checks_count_neither_for_nor_against_measured_uptime(client: Client) -> None:
    target = make_target()
    for i in range(3):
        ok(target, timedelta(hours=i, minutes=5))
    refused(target, timedelta(hours=4), outcome="challenged")
    html = card(client.get("/status/").content.decode(), target.slug)
    text = visible_text(html)
    assert "Up 100% over the 1 day we checked in the last 90" in text
    assert (
        "blocked for our server in 1 of 4 checks over the last 90 days, which count neither "
        "as up nor as down"
    ) in text
    # The newest answer was a page: the state is up, with no "blocked" sentence.
    assert "state-ok" in html and "we can't see whether it's up for you" not in text


def test_a_rolled_up_day_keeps_its_refused_checks_apart() -> None:
    target = make_target()
    yesterday = timedelta(days=1, hours=1)
    ok(target, yesterday)
    refused(target, yesterday + timedelta(minutes=5))
    refused(target, yesterday + timedelta(minutes=10))
    DailyRollup.roll_up(timezone.now().date())
    (row,) = DailyRollup.objects.filter(target=target)
    assert (row.samples, row.ok_samples, row.refused_samples) == (1, 1, 2)
    assert row.worst_outcome == "blocked"
    ProbeSample.objects.filter(target=target).delete()  # as the prune does after rolling up
    (day,) = [d for d in target.uptime_days(3) if d.samples or d.refused]
    assert (day.samples, day.ok_samples, day.refused, day.ratio) == (1, 1, 2, 1.0)


def test_the_live_status_says_blocked_for_our_server(
    client: Client, blocked_target: Target
) -> None:
    (row,) = [r for r in live_rows() if r.target.pk == blocked_target.pk]
    assert row.label == "Blocked for our server"
    assert row.text == (
        "The service answered our server with a Cloudflare block or challenge, "
        "so we can't see whether it's up for you."
    )
    html = client.get("/checks/live/", headers=HTMX).content.decode()
    assert "live-blocked" in html
    assert "Blocked for our server</strong> — The service answered our server" in html
    assert ">Blocked<" not in html and ">Down<" not in html


def test_the_status_answers_with_any_such_target_stay_readable(client: Any) -> None:
    # A status page that answered with a challenge is "challenged for our server" too.
    target = make_target(kind=Target.Kind.STATUS_PAGE, probes=["status"], name="Status page")
    ProbeSample.objects.create(
        target=target, region="default", probe="status", outcome="challenged",
        summary="Cloudflare challenge", probed_at=timezone.now() - timedelta(minutes=2),
    )  # fmt: skip
    html = card(client.get("/status/").content.decode(), target.slug)
    assert "Challenged for our server" in visible_text(html)
