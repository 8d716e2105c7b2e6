"""The run task: complete runs, transient retries, interruptions, waiting without a worker."""

from __future__ import annotations

from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from diagnostics import coalesce, runs, tasks
from diagnostics.models import CheckRun, ProbeResult, Target
from tests.conftest import skip_or_fail
from tests.diagnostics.test_coalesce import unique_target


def new_run(regions: list[str] | None = None) -> CheckRun:
    regions = regions or ["default"]
    per_region = sum(len(t.probes) for t in Target.objects.filter(enabled=True))
    return CheckRun.objects.create(regions=regions, expected_results=per_region * len(regions))


@pytest.mark.django_db
def test_it_completes_a_run_with_one_row_per_probe(edge: Any) -> None:
    unique_target(edge, "/ok", probes=["http", "tcp"])
    run = new_run()
    tasks.run_checks.apply((str(run.pk), "default"))
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    assert sorted(run.results.values_list("probe", "outcome")) == [("http", "ok"), ("tcp", "ok")]


@pytest.mark.django_db
def test_a_redelivered_task_adds_nothing_and_sends_nothing(edge: Any) -> None:
    unique_target(edge, "/ok")
    run = new_run(["default", "eu"])  # stays open: nobody answers for eu
    tasks.run_checks.apply((str(run.pk), "default"))
    tasks.run_checks.apply((str(run.pk), "default"))
    assert run.results.count() == 1
    assert edge.hits("/ok") == 1


@pytest.mark.django_db
def test_a_soft_time_limit_stores_interrupted_rows_so_the_run_closes(
    edge: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    unique_target(edge, "/ok")

    def interrupted(*args: Any) -> list[coalesce.Job]:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(coalesce, "gather", interrupted)
    run = new_run()
    tasks.run_checks.apply((str(run.pk), "default"))
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    row = run.results.get()
    assert row.outcome == "timeout" and row.evidence == {"interrupted": True}
    assert row.summary == runs.INTERRUPTED


@pytest.mark.django_db
def test_a_database_hiccup_is_retried_but_a_probe_failure_is_a_result(
    edge: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    unique_target(edge, "/origin/521")
    real_gather = coalesce.gather
    calls: list[int] = []

    def flaky(*args: Any) -> list[coalesce.Job]:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_gather(*args)

    monkeypatch.setattr(coalesce, "gather", flaky)
    run = new_run()
    tasks.run_checks.apply((str(run.pk), "default"))
    assert len(calls) == 2
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    assert run.results.get().outcome == "down"
    assert edge.hits("/origin/521") == 1


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """Tasks queued by start_run or a waiting task, with their options, not sent."""
    sent: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(tasks.run_checks, "apply_async", lambda args, **kw: sent.append((args, kw)))
    return sent


@pytest.mark.django_db
def test_a_task_waiting_on_another_worker_requeues_itself_instead_of_sleeping(
    edge: Any, queued: list[tuple[Any, dict[str, Any]]]
) -> None:
    target = unique_target(edge, "/ok")
    job = coalesce.jobs_for([target], "default")[0]
    assert coalesce.claim(job)  # another worker is probing it
    run = new_run()

    tasks.run_checks.apply((str(run.pk), "default"))

    assert run.results.count() == 0 and edge.hits("/ok") == 0
    [(args, options)] = queued
    assert args == (str(run.pk), "default", 1)
    assert options["queue"] == "checks.default" and options["countdown"] > 0

    coalesce.publish(job, {"probe": "http", "outcome": "ok", "summary": "Fine."})
    tasks.run_checks.apply(args)
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    assert run.results.get().evidence["coalesced"] is True


@pytest.mark.django_db
def test_a_run_that_waited_too_long_reports_the_gap_and_closes(
    edge: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = unique_target(edge, "/ok")
    assert coalesce.claim(coalesce.jobs_for([target], "default")[0])
    monkeypatch.setattr(runs, "waited_too_long", lambda run: True)
    run = new_run()
    tasks.run_checks.apply((str(run.pk), "default", 99))
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    assert run.results.get().summary == runs.GAVE_UP


@pytest.mark.django_db
def test_when_every_control_fails_the_run_says_our_checks_are_impaired(edge: Any) -> None:
    service = unique_target(edge, "/origin/521")
    control = unique_target(edge, "/ok", kind=Target.Kind.CONTROL)
    other_control = unique_target(edge, "/ok", kind=Target.Kind.CONTROL)
    run = new_run(["eu", "asia"])
    for region, control_outcome in (("eu", "ok"), ("asia", "timeout")):
        for target, outcome in ((service, "down"), (control, control_outcome)):
            data = {"probe": "http", "outcome": outcome, "summary": "x"}
            ProbeResult.store(run.pk, target.pk, region, data)
    data = {"probe": "http", "outcome": "down", "summary": "x"}
    ProbeResult.store(run.pk, other_control.pk, "asia", data)
    assert run.impaired() is True
    assert run.impaired_regions() == ["asia"]

    healthy = new_run()
    ProbeResult.store(healthy.pk, control.pk, "eu", {**data, "outcome": "degraded"})
    assert healthy.impaired() is False


def test_an_interrupted_batch_cancels_the_probes_still_in_flight(edge: Any) -> None:
    from diagnostics.probes.runner import ProbeSpec, run_probes

    specs = [
        ProbeSpec("fast", "http", edge.url("/ok")),
        ProbeSpec("slow", "http", edge.url("/hang")),
    ]

    def interrupt(spec: ProbeSpec, result: Any) -> None:
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        run_probes(specs, tasks.probe_settings(), interrupt)
    # Reaching this line at all means the hanging probe was cancelled, not awaited.
    assert edge.hits("/ok") == 1


# --- a stampede: fresh answers at request time, waiters served by the owner ----------------


def probe_now(*targets: Target) -> None:
    """Someone asks first: each target's answer is fresh in the cache for the window."""
    jobs = coalesce.jobs_for(list(targets), "default")
    assert coalesce.gather(jobs, tasks.probe_settings(), lambda items: None) == []


@pytest.mark.django_db
def test_a_run_whose_answers_are_all_fresh_completes_at_once_without_a_task(
    edge: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = unique_target(edge, "/ok"), unique_target(edge, "/origin/521")
    probe_now(first, second)

    with django_capture_on_commit_callbacks() as callbacks:
        run = tasks.start_run()

    assert callbacks == []  # nothing queued: no task, so nothing can probe
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE and run.finished_at == run.created_at
    rows = {row.target_id: row for row in run.results.all()}
    assert rows[first.pk].outcome == "ok" and rows[second.pk].outcome == "down"
    assert all(row.evidence["coalesced"] is True for row in rows.values())
    assert edge.hits("/ok") == 1 and edge.hits("/origin/521") == 1


@pytest.mark.django_db
def test_a_run_with_some_fresh_answers_keeps_them_and_queues_the_rest(
    edge: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fresh = unique_target(edge, "/ok")
    probe_now(fresh)
    unique_target(edge, "/origin/521")  # nobody has asked about this one yet

    with django_capture_on_commit_callbacks() as callbacks:
        run = tasks.start_run()

    assert len(callbacks) == 1  # the task that probes the rest
    assert run.state == CheckRun.State.RUNNING
    assert list(run.results.values_list("target_id", flat=True)) == [fresh.pk]
    tasks.run_checks.apply((str(run.pk), "default"))
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE
    assert run.results.count() == 2
    assert edge.hits("/ok") == 1 and edge.hits("/origin/521") == 1


@pytest.mark.django_db
def test_closing_counts_rows_and_only_one_closer_wins(edge: Any) -> None:
    first, second = unique_target(edge, "/ok"), unique_target(edge, "/ok")
    run = new_run()
    data = {"probe": "http", "outcome": "ok", "summary": "Fine."}
    ProbeResult.store(run.pk, first.pk, "default", data)
    assert run.close_if_complete() is False
    # A redelivery storing the same row again rewrites it: still one row, not two.
    ProbeResult.store_rows([(run.pk, first.pk, "default", {**data, "outcome": "down"})] * 2)
    assert run.close_if_complete() is False
    ProbeResult.store(run.pk, second.pk, "default", data)

    assert run.close_if_complete() is True
    assert run.state == CheckRun.State.COMPLETE and run.finished_at is not None
    assert CheckRun.objects.get(pk=run.pk).finished_at == run.finished_at
    assert run.close_if_complete() is False  # already closed: a second closer changes nothing
    assert sorted(run.results.values_list("outcome", flat=True)) == ["down", "ok"]


def requires_redis() -> None:
    if not settings.REDIS_URL:
        skip_or_fail("needs Redis (set REDIS_URL): owners hand answers to waiters on Redis only")


@pytest.mark.redis
@pytest.mark.django_db
def test_the_lock_owner_completes_the_runs_waiting_for_it(
    edge: Any, queued: list[tuple[Any, dict[str, Any]]]
) -> None:
    requires_redis()
    target = unique_target(edge, "/ok")
    job = coalesce.jobs_for([target], "default")[0]
    assert coalesce.claim(job)  # an owner is probing: the next run has to wait
    waiters = [new_run() for _ in range(3)]
    for run in waiters:
        tasks.run_checks.apply((str(run.pk), "default"))
    assert all(run.results.count() == 0 for run in waiters)
    # Each re-queued itself, but only as a safety net, well after the short countdown.
    assert {kw["countdown"] for _, kw in queued} == {
        settings.CHECKS_WAIT_COUNTDOWN * runs.WAITER_FALLBACK_FACTOR
    }
    coalesce.release(job)  # hand the lock to a run of our own, which sends the request

    owner = new_run()
    tasks.run_checks.apply((str(owner.pk), "default"))

    assert edge.hits("/ok") == 1
    assert coalesce.take_waiters(job) == []  # the owner emptied the list
    for run in [owner, *waiters]:
        run.refresh_from_db()
        assert run.state == CheckRun.State.COMPLETE  # without their re-queued tasks running
    for run in waiters:
        row = run.results.get()
        assert row.outcome == "ok" and row.evidence["coalesced"] is True
    assert "coalesced" not in owner.results.get().evidence


def owner_finishes_just_before_we_register(
    job: coalesce.Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An owner holds the lock; it publishes and drains the (still empty) waiter set
    just before the run under test joins it: nobody will ever hand that run the
    answer, so it must find the answer itself."""
    assert coalesce.claim(job)
    register = coalesce.register_waiter

    def owner_finishes_first(jobs: Any, token: str) -> None:
        coalesce.publish(job, {"probe": "http", "outcome": "ok", "summary": "Fine."})
        assert coalesce.take_waiters(job) == []
        register(jobs, token)

    monkeypatch.setattr(coalesce, "register_waiter", owner_finishes_first)


@pytest.mark.redis
@pytest.mark.django_db
def test_a_waiter_that_registers_just_after_the_owner_finished_serves_itself(
    edge: Any, monkeypatch: pytest.MonkeyPatch, queued: list[tuple[Any, dict[str, Any]]]
) -> None:
    requires_redis()
    target = unique_target(edge, "/ok")
    job = coalesce.jobs_for([target], "default")[0]
    owner_finishes_just_before_we_register(job, monkeypatch)
    run = new_run()
    tasks.run_checks.apply((str(run.pk), "default"))

    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE and queued == []
    assert run.results.get().evidence["coalesced"] is True
    assert edge.hits("/ok") == 0


# --- runs started while the answer is in flight (Redis) ---------------------------------


@pytest.mark.redis
@pytest.mark.django_db
def test_a_run_started_while_an_owner_probes_is_served_by_it_not_by_its_task(
    edge: Any, queued: list[tuple[Any, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    requires_redis()
    target = unique_target(edge, "/ok")
    job = coalesce.jobs_for([target], "default")[0]
    assert coalesce.claim(job)  # another run's probe is in flight
    with django_capture_on_commit_callbacks(execute=True):
        waiter = tasks.start_run()
    # Its own task is only the safety net for an owner that dies: not soon.
    assert [kw["countdown"] for _, kw in queued] == [
        settings.CHECKS_WAIT_COUNTDOWN * runs.WAITER_FALLBACK_FACTOR
    ]
    coalesce.release(job)  # the lock passes to a run of our own, which sends the request
    owner = new_run()
    tasks.run_checks.apply((str(owner.pk), "default"))

    waiter.refresh_from_db()
    assert waiter.state == CheckRun.State.COMPLETE  # without its own task running
    row = waiter.results.get()
    assert row.outcome == "ok" and row.evidence["coalesced"] is True
    assert edge.hits("/ok") == 1


@pytest.mark.redis
@pytest.mark.django_db
def test_a_run_that_nobody_is_probing_for_queues_its_task_at_once_and_still_waits(
    edge: Any, queued: list[tuple[Any, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    requires_redis()
    target = unique_target(edge, "/ok")
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.start_run()
    assert [kw["countdown"] for _, kw in queued] == [None]
    # Whichever task claims the probe first hands the answer to every registered run.
    other = new_run()
    tasks.run_checks.apply((str(other.pk), "default"))
    first.refresh_from_db()
    assert first.state == CheckRun.State.COMPLETE
    assert first.results.get(target=target).evidence["coalesced"] is True
    assert edge.hits("/ok") == 1


@pytest.mark.redis
@pytest.mark.django_db
def test_a_run_whose_owner_finished_while_it_registered_completes_without_a_task(
    edge: Any,
    queued: list[tuple[Any, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    requires_redis()
    target = unique_target(edge, "/ok")
    job = coalesce.jobs_for([target], "default")[0]
    owner_finishes_just_before_we_register(job, monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start_run()
    run.refresh_from_db()
    assert run.state == CheckRun.State.COMPLETE and queued == []
    assert run.results.get().outcome == "ok"


@pytest.mark.redis
@pytest.mark.django_db
def test_a_run_that_could_not_register_as_a_waiter_queues_its_task_at_once(
    edge: Any,
    queued: list[tuple[Any, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    requires_redis()
    target = unique_target(edge, "/ok")
    assert coalesce.claim(coalesce.jobs_for([target], "default")[0])  # an owner is probing

    def unreachable(jobs: Any, token: str) -> None:
        raise ConnectionError("Redis went away between two calls")

    monkeypatch.setattr(coalesce, "register_waiter", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start_run()
    # Nobody will hand it the answer, so its task must not wait for the safety net.
    assert [kw["countdown"] for _, kw in queued] == [None]
    assert run.state == CheckRun.State.RUNNING
