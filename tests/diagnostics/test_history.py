"""History: beat samples through the coalescing, daily rollups, pruning, honest gaps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from diagnostics import coalesce
from diagnostics.models import CheckRun, CrowdReport, DailyRollup, ProbeSample, Target
from diagnostics.tasks import prune_history, sample_region, schedule_samples
from tests.conftest import wait_for
from tests.diagnostics.test_coalesce import collect, unique_target


def sample(target: Target, days_ago: float, outcome: str, latency: float | None) -> ProbeSample:
    return ProbeSample.objects.create(
        target=target,
        region="default",
        probe="http",
        outcome=outcome,
        summary="x",
        latency_ms=latency,
        probed_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.mark.django_db
def test_a_target_never_probed_says_so(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    assert target.latest_sample() is None
    days = target.uptime_days(90)
    assert len(days) == 90
    assert all(day.ratio is None and day.samples == 0 for day in days)


@pytest.mark.django_db
def test_a_beat_probe_records_a_sample(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    sample_region.apply(("default",))
    latest = target.latest_sample()
    assert latest is not None and latest.outcome == "ok" and latest.region == "default"
    assert latest.latency_ms is not None
    today = target.uptime_days(90)[-1]
    assert today.day == timezone.now().date() and today.ratio == 1.0


@pytest.mark.django_db
def test_a_beat_probe_and_a_visitor_share_one_request(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    collect(coalesce.jobs_for([target], "default"))  # a visitor asked first
    sample_region.apply(("default",))
    assert edge.hits("/ok") == 1
    latest = target.latest_sample()
    assert latest is not None and latest.evidence["coalesced"] is True


@pytest.mark.django_db
def test_the_daily_prune_rolls_up_then_drops_old_samples_and_ancient_rollups(
    edge: Any, settings: Any
) -> None:
    settings.CHECKS_SAMPLE_KEEP_DAYS = 14
    target = unique_target(edge, "/ok")
    for latency in (100.0, 200.0, 300.0):
        sample(target, 20, "ok", latency)
    sample(target, 20, "down", None)
    sample(target, 0, "ok", 50.0)
    DailyRollup.objects.create(
        target=target, region="default", probe="http", day=timezone.now().date() - timedelta(500),
        samples=1, ok_samples=1, worst_outcome="ok",
    )  # fmt: skip

    prune_history.apply()

    rollup = DailyRollup.objects.get(target=target)
    assert rollup.day == (timezone.now() - timedelta(days=20)).date()
    assert (rollup.samples, rollup.ok_samples) == (4, 3)
    assert rollup.avg_latency_ms == 200.0 and rollup.p95_latency_ms == 300.0
    assert rollup.worst_outcome == "down"
    assert ProbeSample.objects.filter(target=target).count() == 1  # today's stays

    days = target.uptime_days(30)
    assert days[-21].samples == 4 and days[-21].ratio == 0.75  # from the rollup
    assert days[-1].ratio == 1.0  # from today's raw sample
    assert days[-2].ratio is None  # nothing then: no invented bar


@pytest.mark.django_db
def test_rolling_up_twice_gives_the_same_rows(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    sample(target, 3, "ok", 10.0)
    DailyRollup.roll_up(before=timezone.now().date())
    DailyRollup.roll_up(before=timezone.now().date())
    assert DailyRollup.objects.get(target=target).samples == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_samples_through_a_real_worker(edge: Any, celery_worker: Any) -> None:
    target = unique_target(edge, "/ok")
    schedule_samples.delay()
    latest = wait_for(target.latest_sample, timeout=30)
    assert latest.outcome == "ok"


@pytest.mark.django_db
def test_the_daily_prune_deletes_expired_reports_and_old_crowd_reports(
    edge: Any, settings: Any
) -> None:
    settings.CHECKS_REPORT_DAYS = 7
    settings.CROWD_BASELINE_DAYS = 7
    target = unique_target(edge, "/ok")
    now = timezone.now()
    old_run = CheckRun.objects.create(created_at=now - timedelta(days=8))
    fresh_run = CheckRun.objects.create(created_at=now - timedelta(days=6))
    CrowdReport.objects.create(target=target, visitor_hash="a", created_at=now - timedelta(days=9))
    kept = CrowdReport.objects.create(
        target=target, visitor_hash="b", created_at=now - timedelta(days=7)
    )

    prune_history.apply()

    assert list(CheckRun.objects.values_list("pk", flat=True)) == [fresh_run.pk]
    assert not CheckRun.objects.filter(pk=old_run.pk).exists()
    assert list(CrowdReport.objects.filter(target=target)) == [kept]
