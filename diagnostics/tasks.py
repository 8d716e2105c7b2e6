"""Celery tasks: thin. Load ids, ask coalesce for answers, store the rows.

Also the worker's region wiring (its queue and heartbeat), connected here
because this module is what every worker imports, and helpcenter (which holds
the Celery app) must not import diagnostics.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import shared_task, signals
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from diagnostics import coalesce, heartbeats, marks, runs, state_changes
from diagnostics.models import (
    CheckRun,
    CrowdReport,
    DailyRollup,
    ProbeResult,
    ProbeSample,
    StateChange,
)
from diagnostics.probes import runner
from diagnostics.probes.runner import ProbeSettings
from diagnostics.probes.safety import AddressPolicy

log = logging.getLogger(__name__)

# Infrastructure hiccups worth another try. Probe outcomes (timeouts, blocks,
# refusals) are results and are stored, never retried.
TRANSIENT = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
RETRY: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 1,
    "retry_backoff_max": 20,
    "retry_jitter": True,
    "max_retries": 4,
}


def probe_settings() -> ProbeSettings:
    return ProbeSettings(
        timeout=settings.PROBE_TIMEOUT,
        deadline=settings.PROBE_DEADLINE,
        user_agent=settings.PROBE_USER_AGENT,
        policy=AddressPolicy(
            allow_loopback=settings.PROBES_ALLOW_LOOPBACK,
            allow_private=settings.PROBES_ALLOW_PRIVATE,
        ),
        local_address=settings.PROBE_SOURCE_ADDRESS or None,
        cafile=settings.PROBE_CA_FILE or None,
        nameservers=settings.PROBE_NAMESERVERS,
    )


@shared_task(
    acks_late=True,
    soft_time_limit=settings.CHECKS_SOFT_TIME_LIMIT,
    time_limit=settings.CHECKS_TIME_LIMIT,
    **RETRY,
)
def run_checks(run_id: str, region: str, attempt: int = 0) -> None:
    """Give one run every result from this worker's region that it is still missing."""
    run = CheckRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return  # expired, or already closed: a redelivery has nothing left to do
    jobs = runs.missing_jobs(run, region)

    def store(items: list[tuple[coalesce.Job, dict[str, Any]]]) -> None:
        ProbeResult.store_rows((run.pk, job.target_id, region, data) for job, data in items)

    try:
        waiting = coalesce.gather(jobs, probe_settings(), store, str(run.pk), serve_waiters)
    except SoftTimeLimitExceeded:
        runs.fill_missing(run, region, runs.INTERRUPTED)
        waiting = []
    if waiting and not runs.waited_too_long(run):
        # Another worker is probing these right now: come back later instead of
        # holding this worker while it waits. On Redis that owner hands us its
        # answer when it lands, so this is only the safety net for an owner that
        # died mid-probe, and it can wait longer.
        countdown = settings.CHECKS_WAIT_COUNTDOWN * min(1 + attempt // 4, 8)
        if coalesce.waiters_supported():
            countdown *= runs.WAITER_FALLBACK_FACTOR
        run_checks.apply_async(
            (run_id, region, attempt + 1), countdown=countdown, queue=runs.queue_name(region)
        )
        return
    if waiting:
        runs.fill_missing(run, region, runs.GAVE_UP)
    run.close_if_complete()


def serve_waiters(handed: list[tuple[coalesce.Job, dict[str, Any], list[str]]]) -> None:
    """As a lock owner: store our fresh answers into the runs that waited for them.

    Then close those that are complete: a waiter's run finishes the moment the
    answer lands instead of on its next re-queue. A failure here only costs the
    waiters their safety-net re-queue, so it must not fail the owner's own run.
    """
    try:
        wanted = {token for _, _, tokens in handed for token in tokens}
        open_runs = set(
            CheckRun.objects.filter(pk__in=wanted, state=CheckRun.State.RUNNING).values_list(
                "pk", flat=True
            )
        )
        ProbeResult.store_rows(
            (run_id, job.target_id, job.region, data)
            for job, data, tokens in handed
            for run_id in open_runs
            if str(run_id) in tokens
        )
        CheckRun.close_complete(list(open_runs))
    except Exception:
        log.warning("could not hand answers to waiting runs; they will re-queue", exc_info=True)


def start_run(
    article_slug: str = "",
    plan: runs.RunPlan | None = None,
    *,
    browser_expected: bool = False,
    service_id: int | None = None,
) -> CheckRun:
    """Create a run (runs.create_run) and queue one task per region once the row is committed.

    On Redis the run also asks now, not when its task reaches a worker, to be
    handed the answers still missing (coalesce.register_waiter). Early in a
    stampede, when one probe is in flight and hundreds of runs wait for it,
    each run then finishes when that answer lands, however long the queue.
    """
    new = runs.create_run(
        article_slug, plan, browser_expected=browser_expected, service_id=service_id
    )
    if not new.complete:
        # After the commit: an owner can store answers only into a run it can see.
        transaction.on_commit(lambda: _dispatch(new.run, new.missing, new.claimed))
    return new.run


def _dispatch(run: CheckRun, missing: list[coalesce.Job], claimed: set[str]) -> None:
    waiting = runs.wait_for_owners(run, missing)
    if waiting == [] or run.is_finished:
        return
    countdown = None
    if waiting is not None and all(job.key in claimed for job in waiting):
        # Every missing answer has an owner probing it, who will hand it over: the
        # task is only the safety net for an owner that dies, and not needed soon.
        countdown = settings.CHECKS_WAIT_COUNTDOWN * runs.WAITER_FALLBACK_FACTOR
    try:
        for region in run.regions:
            # retry=False: with the broker down, say so now instead of hanging the request.
            run_checks.apply_async(
                (str(run.pk), region),
                queue=runs.queue_name(region),
                retry=False,
                countdown=countdown,
            )
    except Exception:
        log.exception("could not enqueue check run %s", run.pk)
        run.mark_unavailable(runs.UNAVAILABLE_NOTE)


@shared_task(ignore_result=True, **RETRY)
def schedule_samples() -> None:
    """Beat's entry point: ask every live region to sample the enabled targets."""
    for region in heartbeats.live_regions():
        sample_region.apply_async((region,), queue=runs.queue_name(region))


@shared_task(
    acks_late=True,
    soft_time_limit=settings.CHECKS_SOFT_TIME_LIMIT,
    time_limit=settings.CHECKS_TIME_LIMIT,
    **RETRY,
)
def sample_region(region: str, attempt: int = 0, since: str = "") -> None:
    """Probe each due target into history, through the same coalescing as visitors.

    ``since`` is when this round began (ISO time, carried across re-queues),
    less the freshness window: a reused answer keeps the time it was probed.
    Every pass settles the round against its controls, so samples taken while
    our own network was down are kept but not counted as the targets failing.
    """
    started = _parse_since(since) or timezone.now() - timedelta(
        seconds=settings.CHECKS_FRESHNESS_SECONDS
    )
    jobs = ProbeSample.due_jobs(region)

    def store(items: list[tuple[coalesce.Job, dict[str, Any]]]) -> None:
        for job, data in items:
            ProbeSample.record(job.target_id, region, data)

    waiting = coalesce.gather(jobs, probe_settings(), store)
    ProbeSample.settle_round(region, started)
    # After settling, so samples taken while our own network was down are skipped.
    state_changes.detect_region(region)
    if waiting and attempt < 20:
        countdown = settings.CHECKS_WAIT_COUNTDOWN * min(1 + attempt // 4, 8)
        sample_region.apply_async(
            (region, attempt + 1, started.isoformat()),
            countdown=countdown,
            queue=runs.queue_name(region),
        )


def _parse_since(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@shared_task(ignore_result=True, **RETRY)
def prune_history() -> None:
    """Daily: fold finished days into rollups, then drop raw samples and old rollups."""
    today = timezone.now().date()
    DailyRollup.roll_up(before=today)
    sample_cutoff = timezone.now() - timedelta(days=settings.CHECKS_SAMPLE_KEEP_DAYS)
    ProbeSample.objects.filter(probed_at__lt=sample_cutoff).delete()
    rollup_cutoff = today - timedelta(days=settings.CHECKS_ROLLUP_KEEP_DAYS)
    DailyRollup.objects.filter(day__lt=rollup_cutoff).delete()
    # State changes are history like the rollups, and the privacy page says so.
    StateChange.objects.filter(at__date__lt=rollup_cutoff).delete()
    # What the privacy page promises: reports go when their link stops working,
    # crowd reports once the banner's baseline no longer needs them.
    now = timezone.now()
    CheckRun.objects.filter(
        created_at__lt=now - timedelta(days=settings.CHECKS_REPORT_DAYS)
    ).delete()
    crowd_cutoff = now - timedelta(days=settings.CROWD_BASELINE_DAYS + 1)
    CrowdReport.objects.filter(created_at__lt=crowd_cutoff).delete()


@shared_task(ignore_result=True, **RETRY)
def close_stale_runs() -> int:
    """Beat: close runs that no task can still be working on, so none spins forever.

    A worker killed mid-run (SIGKILL, OOM, a lost machine) leaves its run open.
    On Redis the message comes back after the visibility timeout, but on the
    filesystem broker a message taken by a dead worker is gone. Past twice the
    hard time limit every live task has finished or given up, so the probes
    still missing get an "interrupted" row and the visitor a clear answer.
    Returns how many runs it closed.
    """
    cutoff = timezone.now() - timedelta(seconds=2 * settings.CHECKS_TIME_LIMIT)
    stale = CheckRun.objects.filter(state=CheckRun.State.RUNNING, created_at__lt=cutoff)
    closed = 0
    for run in stale.order_by("created_at")[:500]:
        for region in run.regions or [settings.CHECKS_REGION]:
            runs.fill_missing(run, region, runs.INTERRUPTED)
        if not run.close_if_complete():
            # Targets were disabled since the run started: fewer rows than expected
            # can ever arrive, so close it with what it has.
            CheckRun.objects.filter(pk=run.pk, state=CheckRun.State.RUNNING).update(
                state=CheckRun.State.COMPLETE, finished_at=timezone.now()
            )
            marks.changed([run.pk])
        closed += 1
    if closed:
        log.warning("closed %d check runs left open by an interrupted worker", closed)
    return closed


# --- worker wiring ---------------------------------------------------------------------

_heartbeat: heartbeats.HeartbeatThread | None = None


@signals.celeryd_after_setup.connect
def _consume_region_queue(sender: str, instance: Any, **kwargs: Any) -> None:
    """A worker started with CHECKS_REGION=<name> also consumes checks.<name>."""
    instance.app.amqp.queues.select_add(runs.queue_name(settings.CHECKS_REGION))


@signals.worker_init.connect
def _warm_up_probes(**kwargs: Any) -> None:
    """Pay the probes' import cost at start-up (before a prefork pool forks), not in a run."""
    runner.warm_up(settings.PROBE_CA_FILE or None)


@signals.worker_ready.connect
def _start_heartbeat(sender: Any, **kwargs: Any) -> None:
    global _heartbeat
    hostname = getattr(sender, "hostname", None)
    _heartbeat = heartbeats.HeartbeatThread(settings.CHECKS_REGION, hostname)
    _heartbeat.start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**kwargs: Any) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()
