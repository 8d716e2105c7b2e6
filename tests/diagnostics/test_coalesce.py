"""Coalescing: one outbound request per (region, target, probe, config) per window."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings

from diagnostics import coalesce
from diagnostics.models import CheckRun, Target
from diagnostics.standins.edge import KEYWORD
from diagnostics.tasks import probe_settings, start_run
from tests.conftest import WorkerProcess, skip_or_fail, subprocess_env, wait_for


def unique_target(edge: Any, path: str, **fields: Any) -> Target:
    # A fresh query string gives a fresh config version, so no earlier test's
    # answer (the cache outlives a test's database rollback on Redis) is reused.
    tag = uuid.uuid4().hex[:8]
    defaults = {"name": f"Service {tag}", "slug": f"s-{tag}", "probes": ["http"]}
    return Target.objects.create(url=edge.url(f"{path}?t={tag}"), **{**defaults, **fields})


def collect(jobs: list[coalesce.Job]) -> tuple[list[coalesce.Job], list[dict[str, Any]]]:
    stored: list[dict[str, Any]] = []
    waiting = coalesce.gather(
        jobs, probe_settings(), lambda items: stored.extend(data for _, data in items)
    )
    return waiting, stored


@pytest.mark.django_db
def test_it_sends_one_request_and_reuses_the_answer_within_the_window(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    jobs = coalesce.jobs_for([target], "default")

    _, first = collect(jobs)
    _, second = collect(jobs)

    assert edge.hits("/ok") == 1
    assert coalesce.sent_count(jobs[0]) == 1
    assert first[0]["outcome"] == second[0]["outcome"] == "ok"
    assert "coalesced" not in first[0]["evidence"]
    assert second[0]["evidence"]["coalesced"] is True
    assert second[0]["evidence"]["age_seconds"] >= 0
    assert second[0]["evidence"]["probed_at"] == first[0]["evidence"]["probed_at"]
    # No run asked (no waiter): the history sample's answer says so to whoever reuses it.
    assert second[0]["evidence"]["probed_for"] == "history"


@pytest.mark.django_db
def test_an_edit_to_the_target_is_probed_afresh(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    collect(coalesce.jobs_for([target], "default"))
    target.keyword = KEYWORD
    target.save()

    _, stored = collect(coalesce.jobs_for([target], "default"))

    assert edge.hits("/ok") == 2
    assert "coalesced" not in stored[0]["evidence"]


@pytest.mark.django_db
def test_each_region_sends_its_own_request(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    collect(coalesce.jobs_for([target], "eu"))
    collect(coalesce.jobs_for([target], "asia"))
    assert edge.hits("/ok") == 2


@pytest.mark.django_db
def test_a_held_lock_means_waiting_without_storing_or_sending(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    jobs = coalesce.jobs_for([target], "default")
    assert coalesce.claim(jobs[0])  # another worker is probing it right now

    waiting, stored = collect(jobs)

    assert waiting == jobs and stored == []
    assert edge.hits("/ok") == 0
    coalesce.publish(jobs[0], {"probe": "http", "outcome": "ok", "summary": "Fine."})
    waiting, stored = collect(jobs)
    assert waiting == [] and stored[0]["evidence"]["coalesced"] is True


@pytest.mark.django_db
def test_a_timeout_is_an_answer_and_is_shared_too(edge: Any) -> None:
    target = unique_target(edge, "/hang", timeout_seconds=0.3)
    jobs = coalesce.jobs_for([target], "default")
    _, first = collect(jobs)
    _, second = collect(jobs)
    assert first[0]["outcome"] == second[0]["outcome"] == "timeout"
    assert edge.hits("/hang") == 1


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_many_runs_on_several_workers_reach_the_target_once_per_probe(
    clean_broker: None, edge: Any
) -> None:
    if not settings.REDIS_URL:
        # kombu's filesystem transport can hand a consumer a message file that its
        # publisher has not written yet (it moves, then reads, an empty file), and the
        # message is lost; with several workers re-queueing, that happens often.
        skip_or_fail("needs Redis (set REDIS_URL): several workers need a real broker")
    tag = uuid.uuid4().hex[:8]
    Target.objects.create(
        name="Slow", slug=f"slow-{tag}", url=edge.url(f"/slow?ms=300&t={tag}"), probes=["http"]
    )
    unique_target(edge, "/ok")
    env = subprocess_env(CHECKS_FRESHNESS_SECONDS="600")
    workers = [WorkerProcess("checks.default", env, name=f"co{i}") for i in range(3)]
    try:
        for worker in workers:
            worker.wait_ready()
        runs = [start_run() for _ in range(30)]

        def all_complete() -> bool:
            states = CheckRun.objects.filter(pk__in=[r.pk for r in runs]).values_list(
                "state", flat=True
            )
            return all(state == CheckRun.State.COMPLETE for state in states)

        try:
            wait_for(all_complete, timeout=60, interval=0.2)
        except AssertionError:
            print("\n".join(line for worker in workers for line in worker.lines[-30:]))
            raise
    finally:
        for worker in workers:
            worker.stop()

    assert edge.hits("/slow") == 1
    assert edge.hits("/ok") == 1
    for run in runs:
        outcomes = list(run.results.values_list("outcome", flat=True))
        assert outcomes == ["ok", "ok"]
    reused = sum(
        1 for run in runs for row in run.results.all() if row.evidence.get("coalesced") is True
    )
    assert reused == 30 * 2 - 2
