"""One outbound probe per (region, target, probe) per freshness window, shared by everyone.

Built on Django's cache API, so it runs on Redis when REDIS_URL is set and on
the database cache otherwise (both are shared by every web and worker process;
the per-process local-memory cache would not be).

Keys, all under ``checks:`` and ending in the target's config version so an
admin's edit is probed afresh at once:

- ``lock:<key>``   taken with ``cache.add`` by the first asker, the only one that
  sends a request; it expires after the probe's deadline, so a worker that dies
  mid-probe frees the key for the next asker instead of stalling it.
- ``answer:<key>`` the owner's result, kept for the freshness window.
- ``sent:<key>``   how many requests really left for this key (retries and
  redeliveries that reuse an answer do not add to it).
- ``rest:<target>`` a rate-limit backoff: until it expires nobody probes the target.

A task that finds the lock held does not wait for it: ``gather`` returns the
jobs still waiting and the task re-queues itself with a short countdown (see
tasks.run_checks). We chose that over the owner fanning its answer out to a
list of waiters because the cache API has no atomic list append on the
database backend, and a lost waiter would be a stuck run; a re-queued task is
cheap, holds no worker while it waits, and survives the owner dying.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from diagnostics.models import Target
from diagnostics.probes.result import ProbeResult as ProbeAnswer
from diagnostics.probes.runner import ProbeSettings, ProbeSpec, run_probes

log = logging.getLogger(__name__)

# Room beyond the probe deadline for the runner's own outer bound and the store.
LOCK_SLACK_SECONDS = 5.0
# Sent counters outlive the window a little so a benchmark can read them afterwards.
SENT_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Job:
    """One probe of one target from one region."""

    target: Target
    probe: str
    region: str

    @property
    def key(self) -> str:
        target = self.target
        return f"{self.region}:{target.pk}:{self.probe}:{target.config_version}"

    def spec(self) -> ProbeSpec:
        target = self.target
        return ProbeSpec(
            key=self,
            probe=self.probe,
            url=target.url,
            expected_statuses=tuple(target.expected_statuses or (200,)),
            keyword=target.keyword or None,
            timeout=target.timeout_seconds,
            provider=target.provider or None,
        )


def jobs_for(targets: Sequence[Target], region: str) -> list[Job]:
    return [Job(target, probe, region) for target in targets for probe in target.probes]


# --- the cache entries ---------------------------------------------------------------


def _lock_ttl(job: Job) -> int:
    deadline = max(settings.PROBE_DEADLINE, job.target.timeout_seconds)
    return int(deadline + LOCK_SLACK_SECONDS) + 1


def _rest_key(target: Target) -> str:
    return f"checks:rest:{target.pk}:{target.config_version}"


def claim(job: Job) -> bool:
    """Take the right to send this window's request; False when someone else holds it."""
    return bool(cache.add(f"checks:lock:{job.key}", uuid.uuid4().hex, timeout=_lock_ttl(job)))


def release(job: Job) -> None:
    cache.delete(f"checks:lock:{job.key}")


def publish(job: Job, data: dict[str, Any]) -> dict[str, Any]:
    """Keep the owner's answer for the window, count the request, free the lock."""
    now = time.time()
    evidence = dict(data.get("evidence") or {})
    evidence["probed_at"] = _iso(now)
    fresh = {**data, "evidence": evidence}
    cache.set(
        f"checks:answer:{job.key}",
        {"data": fresh, "probed_at": now},
        timeout=settings.CHECKS_FRESHNESS_SECONDS,
    )
    sent_key = f"checks:sent:{job.key}"
    cache.add(sent_key, 0, timeout=SENT_TTL_SECONDS)
    try:
        cache.incr(sent_key)
    except ValueError:  # evicted between add and incr: the count restarts, the probe stands
        cache.set(sent_key, 1, timeout=SENT_TTL_SECONDS)
    _note_rate_limit(job.target, fresh)
    release(job)
    return fresh


def sent_count(job: Job) -> int:
    """How many requests actually left for this key (for tests and the benchmark)."""
    return int(cache.get(f"checks:sent:{job.key}") or 0)


def fresh_answer(job: Job) -> dict[str, Any] | None:
    """Someone's answer from within the window, marked as reused and with its age."""
    stored = cache.get(f"checks:answer:{job.key}")
    if not stored:
        return None
    data = dict(stored["data"])
    evidence = dict(data.get("evidence") or {})
    evidence["coalesced"] = True
    evidence["age_seconds"] = round(max(time.time() - stored["probed_at"], 0.0), 1)
    data["evidence"] = evidence
    return data


# --- politeness ----------------------------------------------------------------------


def _note_rate_limit(target: Target, data: dict[str, Any]) -> None:
    evidence = data.get("evidence") or {}
    if "retry_after" not in evidence and evidence.get("status") != 429:
        return
    seconds = evidence.get("retry_after") or settings.CHECKS_BACKOFF_DEFAULT_SECONDS
    seconds = max(1, min(int(seconds), settings.CHECKS_BACKOFF_MAX_SECONDS))
    until = time.time() + seconds
    cache.set(_rest_key(target), {"until": until, "summary": data.get("summary", "")}, seconds)
    log.info("leaving %s alone for %ss after a rate limit", target.slug, seconds)


def resting_answer(job: Job) -> dict[str, Any] | None:
    """A result that sends nothing while the target is resting after a rate limit."""
    rest = cache.get(_rest_key(job.target))
    if not rest or rest["until"] <= time.time():
        return None
    until = datetime.fromtimestamp(rest["until"], UTC)
    return {
        "probe": job.probe,
        "outcome": "unknown",
        "summary": (
            f"It asked us to slow down, so we are giving {job.target.name} a rest "
            f"until {until:%H:%M} UTC and did not check it this time."
        )[:300],
        "latency_ms": None,
        "evidence": {
            "resting": True,
            "resting_until": until.isoformat(),
            "rate_limit_summary": rest.get("summary", ""),
        },
    }


def ready_answer(job: Job) -> dict[str, Any] | None:
    """An answer that costs the target nothing: a fresh one, or a polite "resting"."""
    return fresh_answer(job) or resting_answer(job)


# --- the single flight -------------------------------------------------------------------


def gather(
    jobs: Sequence[Job],
    probe_settings: ProbeSettings,
    store: Callable[[Job, dict[str, Any]], None],
) -> list[Job]:
    """Answer every job that can be answered now; return the ones another worker is probing.

    Reused and resting answers are stored at once; the jobs this call owns are
    probed concurrently and each is published and stored as it lands.
    """
    owned: list[Job] = []
    waiting: list[Job] = []
    for job in jobs:
        answer = ready_answer(job)
        if answer is None and claim(job):
            # The owner publishes before it releases: an answer that landed between
            # our look and our claim is here now, and must not be asked for again.
            answer = fresh_answer(job)
            if answer is None:
                owned.append(job)
                continue
            release(job)
        if answer is not None:
            store(job, answer)
        else:
            waiting.append(job)
    if not owned:
        return waiting

    published: set[str] = set()

    def on_result(spec: ProbeSpec, result: ProbeAnswer) -> None:
        job: Job = spec.key
        fresh = publish(job, result.to_dict())
        published.add(job.key)
        store(job, fresh)

    try:
        run_probes([job.spec() for job in owned], probe_settings, on_result)
    finally:
        # Interrupted (soft time limit, crash): free what we hold so others need not
        # wait for the lock to expire.
        for job in owned:
            if job.key not in published:
                release(job)
    # Probing took a while: what we were waiting for has likely landed by now.
    still_waiting = []
    for job in waiting:
        answer = ready_answer(job)
        if answer is None:
            still_waiting.append(job)
        else:
            store(job, answer)
    return still_waiting


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
