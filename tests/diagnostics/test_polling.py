"""Waiting for a run in flight costs little (issue 15, point 3): a poll that finds nothing
new is answered from the run's mark in the cache, without the database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from diagnostics import marks
from diagnostics.models import CheckRun, ProbeResult, Rule, Target, verdict_rules
from tests.conftest import skip_or_fail

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def no_worker(settings: Any) -> None:
    settings.CHECKS_REGION = "nowhere"  # nobody consumes it: the run stays in flight
    settings.CHECKS_DELAYED_AFTER = 60
    settings.CHECKS_POLL_SCHEDULE = [0.5, 1.0, 2.0]


@pytest.fixture
def in_flight(db: None) -> tuple[CheckRun, list[Target]]:
    targets = [
        Target.objects.create(name=f"T{i}", slug=f"t{i}", url=f"https://t{i}.example/")
        for i in range(2)
    ]
    run = CheckRun.objects.create(regions=["default"], expected_results=2)
    return run, targets


def poll_url(response: Any) -> str:
    found = re.search(r'hx-get="([^"]+)"', response.content.decode())
    assert found, "the panel is not polling"
    return found.group(1).replace("&amp;", "&")


def store(run: CheckRun, target: Target) -> None:
    ProbeResult.store(
        run.pk, target.pk, "default",
        {"probe": "http", "outcome": "ok", "summary": "fine", "evidence": {}},
    )  # fmt: skip


@pytest.mark.redis
@pytest.mark.django_db
def test_a_poll_with_no_change_makes_no_query_and_gets_204(
    client: Client,
    in_flight: tuple[CheckRun, list[Target]],
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    if not settings.REDIS_URL:
        skip_or_fail("needs Redis (set REDIS_URL): the cache is the database here")
    run, targets = in_flight
    first = client.get(f"/checks/{run.id}/", **HTMX)
    assert first.status_code == 200
    html = first.content.decode()
    assert 'hx-trigger="checks:poll"' in html and 'data-poll-schedule="0.5,1,2"' in html
    url = poll_url(first)
    assert "?seen=" in url

    with django_assert_num_queries(0):
        unchanged = client.get(url, **HTMX)
    assert unchanged.status_code == 204 and unchanged.content == b""

    # A result lands (as the worker stores it, committed): the same poll renders it.
    with django_capture_on_commit_callbacks(execute=True):
        store(run, targets[0])
    changed = client.get(url, **HTMX)
    assert changed.status_code == 200
    assert "1 of 2 checks done" in changed.content.decode()
    newer = poll_url(changed)
    assert newer != url
    with django_assert_num_queries(0):
        assert client.get(newer, **HTMX).status_code == 204

    # The last one: the run closes, and the poll that sees it stops polling.
    with django_capture_on_commit_callbacks(execute=True):
        store(run, targets[1])
        run.close_if_complete()
    final = client.get(newer, **HTMX)
    assert final.status_code == 286
    html = final.content.decode()
    assert "All 2 checks done" in html and "checks:poll" not in html


@pytest.mark.django_db
def test_a_stuck_run_stops_being_answered_from_the_mark(
    client: Client, in_flight: tuple[CheckRun, list[Target]], settings: Any
) -> None:
    run, _ = in_flight
    url = poll_url(client.get(f"/checks/{run.id}/", **HTMX))
    assert marks.unchanged(run.id, url.rsplit("=", 1)[1])
    settings.CHECKS_DELAYED_AFTER = 0  # past the deadline: render, and say it is delayed
    late = client.get(url, **HTMX)
    assert late.status_code == 286
    assert "Checks are delayed" in late.content.decode()


@pytest.mark.django_db
def test_a_poll_with_an_unknown_token_renders(
    client: Client, in_flight: tuple[CheckRun, list[Target]]
) -> None:
    run, _ = in_flight
    client.get(f"/checks/{run.id}/", **HTMX)
    assert client.get(f"/checks/{run.id}/?seen=forged", **HTMX).status_code == 200
    assert client.get(f"/checks/{run.id}/?seen=", **HTMX).status_code == 200


@pytest.mark.django_db
def test_without_javascript_the_report_page_refreshes_itself(
    client: Client, in_flight: tuple[CheckRun, list[Target]]
) -> None:
    run, _ = in_flight
    page = client.get(f"/checks/{run.id}/").content.decode()
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page


@pytest.mark.django_db
def test_rules_are_kept_per_process_until_an_edit_or_the_setting_expires(
    settings: Any, django_assert_num_queries: Any
) -> None:
    settings.CHECKS_RULES_SECONDS = 300
    rule = Rule.objects.create(code="x", headline="X", order=1)
    verdict_rules()
    with django_assert_num_queries(0):
        assert [r.code for r in verdict_rules()] == ["x"]
    rule.headline = "Y"
    rule.save()  # this process's own edit is seen at once
    with django_assert_num_queries(2):
        assert [r.headline for r in verdict_rules()] == ["Y"]
    settings.CHECKS_RULES_SECONDS = 0
    with django_assert_num_queries(2):
        verdict_rules()
