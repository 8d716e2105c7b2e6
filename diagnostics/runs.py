"""Check-run bookkeeping: plan a run, store it, find and fill its missing results.

No Celery here: tasks.py queues the work (tasks.start_run) and calls back in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from diagnostics import coalesce, heartbeats
from diagnostics.coalesce import Job, jobs_for
from diagnostics.models import CheckRun, ProbeResult, Target

log = logging.getLogger(__name__)

UNAVAILABLE_NOTE = "Checks are unavailable right now. The guide below still works; try again soon."
INTERRUPTED = "This check was interrupted before it finished; run the checks again in a moment."
GAVE_UP = "Another check of this site did not come back in time; run the checks again in a moment."


def queue_name(region: str) -> str:
    return f"checks.{region}"


def live_regions() -> list[str]:
    return heartbeats.live_regions()


# On Redis a waiting run is served by the probe's owner the moment its answer lands;
# its own task then only guards against an owner that died, and comes this many
# times CHECKS_WAIT_COUNTDOWN later (tasks.run_checks uses the same factor).
WAITER_FALLBACK_FACTOR = 8


@dataclass(frozen=True)
class RunPlan:
    """What a run would need, worked out before it exists.

    ``ready``: answers fresh in the cache, by job key; ``claimed``: keys some
    owner is probing right now (the run will be handed their answer).
    """

    regions: list[str]
    jobs: list[Job]
    ready: dict[str, dict[str, Any]]
    claimed: set[str]
    service_id: int | None = None
    # The targets the jobs probe (Target.objects.checked_for), already loaded.
    targets: list[Target] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.ready) == len(self.jobs)

    @property
    def browser_targets(self) -> list[Target]:
        """The run's targets a visitor's browser fetches too."""
        return [target for target in self.targets if target.browser_check]

    @property
    def sends_outbound(self) -> bool:
        """True when some probe has neither a fresh answer nor an owner: this run would probe.

        Only such runs cost the targets anything, so only they count against the
        global run limit; the rest are answered from what others already asked.
        """
        return any(job.key not in self.ready and job.key not in self.claimed for job in self.jobs)


def plan_run(service_id: int | None = None) -> RunPlan:
    """Look up, in one cache round trip, which of a new run's probes are answered already.

    The run probes the service's own targets and the controls (Target.objects.checked_for).
    """
    regions = live_regions()
    targets = list(Target.objects.checked_for(service_id))
    jobs = [job for region in regions for job in jobs_for(targets, region)]
    ready, claimed = _look(jobs)
    return RunPlan(regions, jobs, ready, claimed, service_id, targets)


@dataclass(frozen=True)
class NewRun:
    """A run just stored, with what its tasks still have to bring (tasks.start_run queues them).

    ``missing``: jobs without an answer yet; ``claimed``: keys of those an
    owner is probing right now, who will hand the answer over.
    """

    run: CheckRun
    missing: list[Job]
    claimed: set[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def create_run(
    article_slug: str = "",
    plan: RunPlan | None = None,
    *,
    browser_expected: bool = False,
    service_id: int | None = None,
) -> NewRun:
    """Store a run, with the answers already fresh in the cache; queue nothing.

    Answers already fresh in the cache (someone probed within the window) are
    copied into the run here and now: that sends nothing to any target, so it
    stays within "Celery is the only path that probes". When every probe is
    answered that way, as in a stampede, the run is complete at once and no
    task is needed at all; otherwise tasks.start_run queues one per region.

    ``plan``: from plan_run, when the caller looked already (to apply the limits);
    it then says the service, else ``service_id`` does.
    ``browser_expected``: the page will post the browser's own findings.
    """
    plan = plan or plan_run(service_id)
    jobs, ready, claimed = plan.jobs, plan.ready, plan.claimed
    now = timezone.now()
    complete = plan.complete
    run = CheckRun.objects.create(
        service_id=plan.service_id,
        regions=plan.regions,
        expected_results=len(jobs),
        article_slug=article_slug,
        browser_expected=browser_expected,
        created_at=now,
        state=CheckRun.State.COMPLETE if complete else CheckRun.State.RUNNING,
        finished_at=now if complete else None,
    )
    missing = _store_answers(run, jobs, ready, new_run=True)
    return NewRun(run, [] if complete else missing, claimed)


def _look(jobs: list[Job]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    try:
        return coalesce.look(jobs)
    except Exception:
        # The cache (Redis) is down: nothing is fresh, and the task path decides
        # what the visitor sees (the broker is most likely down too: "unavailable").
        log.warning("could not read fresh answers for a new run", exc_info=True)
        return {}, set()


def wait_for_owners(run: CheckRun, missing: list[Job]) -> list[Job] | None:
    """Register the run for the missing answers; store any that landed; return the rest.

    None when the run could not be registered (no Redis, or it failed): then
    only its task can bring the answers.
    """
    if not coalesce.waiters_supported():
        return None
    try:
        coalesce.register_waiter(missing, str(run.pk))
        # Look again: an owner that handed out its answer a moment before we
        # registered has published it by now.
        late = coalesce.ready_answers(missing)
    except Exception:
        log.warning("could not wait for answers of run %s; its task will", run.pk, exc_info=True)
        return None
    if not late:
        return missing
    rest = _store_answers(run, missing, late)
    run.close_if_complete()
    return rest


def _store_answers(
    run: CheckRun, jobs: list[Job], answers: dict[str, Any], *, new_run: bool = False
) -> list[Job]:
    """Store the answers some of the run's jobs already have; return the jobs still without."""
    rows = [
        (run.pk, job.target_id, job.region, answers[job.key]) for job in jobs if job.key in answers
    ]
    ProbeResult.store_rows(rows, new_run=new_run)
    return [job for job in jobs if job.key not in answers]


def missing_jobs(run: CheckRun, region: str) -> list[Job]:
    """The probes of this run and region that have no result row yet."""
    done = set(run.results.filter(region=region).values_list("target_id", "probe"))
    targets = list(Target.objects.checked_for(run.service_id))
    return [job for job in jobs_for(targets, region) if (job.target_id, job.probe) not in done]


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
        ProbeResult.store(run.pk, job.target_id, region, data)


def waited_too_long(run: CheckRun) -> bool:
    """Past the hard time limit a waiting task stops re-queueing and reports the gap."""
    limit = timedelta(seconds=settings.CHECKS_TIME_LIMIT)
    return timezone.now() - run.created_at > limit
