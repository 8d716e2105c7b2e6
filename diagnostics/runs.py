"""Starting a check run: the one place that turns a button press into queued work."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from diagnostics import coalesce, health
from diagnostics.coalesce import Job, jobs_for
from diagnostics.models import CheckRun, ProbeResult, Target

log = logging.getLogger(__name__)

UNAVAILABLE_NOTE = "Checks are unavailable right now. The guide below still works; try again soon."
INTERRUPTED = "This check was interrupted before it finished; run the checks again in a moment."
GAVE_UP = "Another check of this site did not come back in time; run the checks again in a moment."


def queue_name(region: str) -> str:
    return f"checks.{region}"


def live_regions() -> list[str]:
    return health.live_regions()


def start_run(article_slug: str = "") -> CheckRun:
    """Create a run and enqueue one task per region once the row is committed.

    Answers already fresh in the cache (someone probed within the window) are
    copied into the run here and now: that sends nothing to any target, so it
    stays within "Celery is the only path that probes". When every probe is
    answered that way, as in a stampede, the run is complete at once and no
    task is queued at all; otherwise the task probes (or waits for) the rest.
    """
    regions = live_regions()
    targets = list(Target.objects.filter(enabled=True))
    jobs = [job for region in regions for job in jobs_for(targets, region)]
    ready = _ready_answers(jobs)
    now = timezone.now()
    complete = len(ready) == len(jobs)
    run = CheckRun.objects.create(
        regions=regions,
        expected_results=len(jobs),
        article_slug=article_slug,
        created_at=now,
        state=CheckRun.State.COMPLETE if complete else CheckRun.State.RUNNING,
        finished_at=now if complete else None,
    )
    ProbeResult.store_rows(
        (run.pk, job.target.pk, job.region, ready[job.key]) for job in jobs if job.key in ready
    )
    if not complete:
        transaction.on_commit(lambda: _dispatch(run))
    return run


def _ready_answers(jobs: list[Job]) -> dict[str, dict[str, Any]]:
    try:
        return coalesce.ready_answers(jobs)
    except Exception:
        # The cache (Redis) is down: nothing is fresh, and the task path decides
        # what the visitor sees (the broker is most likely down too: "unavailable").
        log.warning("could not read fresh answers for a new run", exc_info=True)
        return {}


def _dispatch(run: CheckRun) -> None:
    from diagnostics.tasks import run_checks

    try:
        for region in run.regions:
            # retry=False: with the broker down, say so now instead of hanging the request.
            run_checks.apply_async((str(run.pk), region), queue=queue_name(region), retry=False)
    except Exception:
        log.exception("could not enqueue check run %s", run.pk)
        run.mark_unavailable(UNAVAILABLE_NOTE)


def missing_jobs(run: CheckRun, region: str) -> list[Job]:
    """The probes of this run and region that have no result row yet."""
    done = set(run.results.filter(region=region).values_list("target_id", "probe"))
    targets = list(Target.objects.filter(enabled=True))
    return [job for job in jobs_for(targets, region) if (job.target.pk, job.probe) not in done]


def fill_missing(run: CheckRun, region: str, summary: str) -> None:
    """Store a timeout row for every probe still missing, so the run can close."""
    for job in missing_jobs(run, region):
        data = {
            "probe": job.probe,
            "outcome": "timeout",
            "summary": summary,
            "latency_ms": None,
            "evidence": {"interrupted": True},
        }
        ProbeResult.store(run.pk, job.target.pk, region, data)


def waited_too_long(run: CheckRun) -> bool:
    """Past the hard time limit a waiting task stops re-queueing and reports the gap."""
    limit = timedelta(seconds=settings.CHECKS_TIME_LIMIT)
    return timezone.now() - run.created_at > limit
