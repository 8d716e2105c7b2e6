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

A task that finds the lock held does not wait for it. On Redis it adds its run
to ``waiters:<key>`` (a Redis set, outside Django's cache API), and the owner,
once its answer is published, stores that answer into every waiting run and
closes the runs that are then complete: nobody spins. The waiter looks for the
answer again right after registering, so an owner that drained the set just
before the waiter joined cannot leave it behind, and the waiter still re-queues
itself with a long countdown as a safety net (an owner killed mid-probe). On
the database cache there is no atomic set, so the waiter re-queues itself with
a short countdown instead (see tasks.run_checks); a lost waiter would be a
stuck run, and a re-queued task is cheap and survives the owner dying.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import redis
from django.conf import settings
from django.core.cache import cache

from diagnostics.probes.result import ProbeResult as ProbeAnswer
from diagnostics.probes.runner import ProbeSettings, ProbeSpec, run_probes_batched

log = logging.getLogger(__name__)

# Room beyond the probe deadline for the runner's own outer bound and the store.
LOCK_SLACK_SECONDS = 5.0
# Sent counters outlive the window a little so a benchmark can read them afterwards.
SENT_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Job:
    """One probe of one target from one region, in plain values (``Target.jobs`` builds it).

    It carries what the probe reads from the target, so nothing here needs the
    ORM row, and ``config_version`` (a digest of those values) ends every key:
    an admin's edit is probed afresh at once.
    """

    target_id: int
    config_version: str
    region: str
    probe: str
    target_name: str
    target_slug: str
    url: str
    expected_statuses: tuple[int, ...]
    keyword: str | None
    timeout: float
    provider: str | None

    @property
    def key(self) -> str:
        return f"{self.region}:{self.target_id}:{self.probe}:{self.config_version}"

    def spec(self) -> ProbeSpec:
        return ProbeSpec(
            key=self,
            probe=self.probe,
            url=self.url,
            expected_statuses=self.expected_statuses,
            keyword=self.keyword,
            timeout=self.timeout,
            provider=self.provider,
        )


class HasJobs(Protocol):
    def jobs(self, region: str) -> list[Job]: ...


def jobs_for(targets: Sequence[HasJobs], region: str) -> list[Job]:
    return [job for target in targets for job in target.jobs(region)]


# --- the cache entries ---------------------------------------------------------------


def _lock_ttl(job: Job) -> int:
    deadline = max(settings.PROBE_DEADLINE, job.timeout)
    return int(deadline + LOCK_SLACK_SECONDS) + 1


def _rest_key(job: Job) -> str:
    return f"checks:rest:{job.target_id}:{job.config_version}"


def _lock_key(job: Job) -> str:
    return f"checks:lock:{job.key}"


def claim(job: Job) -> bool:
    """Take the right to send this window's request; False when someone else holds it."""
    return bool(cache.add(_lock_key(job), uuid.uuid4().hex, timeout=_lock_ttl(job)))


def release(job: Job) -> None:
    cache.delete(_lock_key(job))


def publish(job: Job, data: dict[str, Any], for_visitor: bool = True) -> dict[str, Any]:
    """Keep the owner's answer for the window, count the request, free the lock.

    ``for_visitor``: a visitor's run sent the probe (not the periodic history
    sample), so whoever reuses the answer can be told whose check it was.
    """
    now = time.time()
    evidence = dict(data.get("evidence") or {})
    evidence["probed_at"] = _iso(now)
    evidence["probed_for"] = "visitor" if for_visitor else "history"
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
    _note_rate_limit(job, fresh)
    release(job)
    return fresh


def sent_count(job: Job) -> int:
    """How many requests actually left for this key (for tests and the benchmark)."""
    return int(cache.get(f"checks:sent:{job.key}") or 0)


def _answer_key(job: Job) -> str:
    return f"checks:answer:{job.key}"


def _reused(stored: dict[str, Any], now: float) -> dict[str, Any]:
    data = dict(stored["data"])
    evidence = dict(data.get("evidence") or {})
    evidence["coalesced"] = True
    evidence["age_seconds"] = round(max(now - stored["probed_at"], 0.0), 1)
    data["evidence"] = evidence
    return data


def fresh_answer(job: Job) -> dict[str, Any] | None:
    """Someone's answer from within the window, marked as reused and with its age."""
    stored = cache.get(_answer_key(job))
    return _reused(stored, time.time()) if stored else None


# --- politeness ----------------------------------------------------------------------


def _note_rate_limit(job: Job, data: dict[str, Any]) -> None:
    evidence = data.get("evidence") or {}
    if "retry_after" not in evidence and evidence.get("status") != 429:
        return
    seconds = evidence.get("retry_after") or settings.CHECKS_BACKOFF_DEFAULT_SECONDS
    seconds = max(1, min(int(seconds), settings.CHECKS_BACKOFF_MAX_SECONDS))
    until = time.time() + seconds
    cache.set(_rest_key(job), {"until": until, "summary": data.get("summary", "")}, seconds)
    log.info("leaving %s alone for %ss after a rate limit", job.target_slug, seconds)


def _resting(job: Job, rest: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    if not rest or rest["until"] <= now:
        return None
    until = datetime.fromtimestamp(rest["until"], UTC)
    return {
        "probe": job.probe,
        "outcome": "unknown",
        "summary": (
            f"It asked us to slow down, so we are giving {job.target_name} a rest "
            f"until {until:%H:%M} UTC and did not check it this time."
        )[:300],
        "latency_ms": None,
        "evidence": {
            "resting": True,
            "resting_until": until.isoformat(),
            "rate_limit_summary": rest.get("summary", ""),
        },
    }


def resting_answer(job: Job) -> dict[str, Any] | None:
    """A result that sends nothing while the target is resting after a rate limit."""
    return _resting(job, cache.get(_rest_key(job)), time.time())


def ready_answer(job: Job) -> dict[str, Any] | None:
    """An answer that costs the target nothing: a fresh one, or a polite "resting"."""
    return fresh_answer(job) or resting_answer(job)


def ready_answers(jobs: Sequence[Job]) -> dict[str, dict[str, Any]]:
    """ready_answer for many jobs in one cache round trip, by job key.

    In a stampede nearly every job is answered here, so a task (or start_run)
    finds its answers with one look instead of two per job.
    """
    if not jobs:
        return {}
    return _answers_in(jobs, cache.get_many(list(_answer_names(jobs))))


def look(jobs: Sequence[Job]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """ready_answers, plus the keys of the jobs that some owner is probing right now.

    One cache round trip for both.
    """
    if not jobs:
        return {}, set()
    found = cache.get_many(list(_answer_names(jobs) | {_lock_key(job) for job in jobs}))
    claimed = {job.key for job in jobs if _lock_key(job) in found}
    return _answers_in(jobs, found), claimed


def _answer_names(jobs: Sequence[Job]) -> set[str]:
    """The cache keys that can answer these jobs without a request: answers and rests."""
    return {_answer_key(job) for job in jobs} | {_rest_key(job) for job in jobs}


def _answers_in(jobs: Sequence[Job], found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    now = time.time()
    answers: dict[str, dict[str, Any]] = {}
    for job in jobs:
        stored = found.get(_answer_key(job))
        answer = _reused(stored, now) if stored else None
        answer = answer or _resting(job, found.get(_rest_key(job)), now)
        if answer is not None:
            answers[job.key] = answer
    return answers


# --- waiters (Redis only) ----------------------------------------------------------------


def waiters_supported() -> bool:
    """Owners serve waiters only on Redis: it has the atomic set the hand-over needs."""
    return bool(settings.REDIS_URL)


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def _waiters_key(job: Job) -> str:
    return f"checks:waiters:{job.key}"


def register_waiter(jobs: Sequence[Job], token: str) -> None:
    """Ask each job's owner to hand its answer to ``token`` (a run id) when it lands."""
    client = _redis(settings.REDIS_URL)
    with client.pipeline(transaction=False) as pipe:
        for job in jobs:
            pipe.sadd(_waiters_key(job), token)
            # Outlives the lock: an owner that died leaves nothing behind for long.
            pipe.expire(_waiters_key(job), _lock_ttl(job) + 5)
        pipe.execute()


def take_waiters(job: Job) -> list[str]:
    """Everyone waiting for this job's answer, removed from the set in one step."""
    client = _redis(settings.REDIS_URL)
    with client.pipeline(transaction=True) as pipe:
        pipe.smembers(_waiters_key(job))
        pipe.delete(_waiters_key(job))
        members, _ = pipe.execute()
    return sorted(member.decode() for member in members)


# --- the single flight -------------------------------------------------------------------

Store = Callable[[list[tuple[Job, dict[str, Any]]]], None]
Serve = Callable[[list[tuple[Job, dict[str, Any], list[str]]]], None]


def gather(
    jobs: Sequence[Job],
    probe_settings: ProbeSettings,
    store: Store,
    waiter: str | None = None,
    serve: Serve | None = None,
) -> list[Job]:
    """Answer every job that can be answered now; return the ones another worker is probing.

    Reused and resting answers are stored at once, in one call of ``store``;
    the jobs this call owns are probed concurrently and stored as they land.
    With ``waiter`` (a run id) on Redis, the jobs left waiting are registered so
    their owners hand the answer over; with ``serve``, this call hands its own
    answers to whoever registered for them (job, reused answer, their tokens).
    """
    answered, owned, waiting = _sort_jobs(jobs)
    if waiting and waiter and waiters_supported():
        register_waiter(waiting, waiter)
        # Look again after registering: an owner that drained the set a moment
        # before we joined it has published by then, so its answer is here.
        late = ready_answers(waiting)
        answered.extend((job, late[job.key]) for job in waiting if job.key in late)
        waiting = [job for job in waiting if job.key not in late]
    if answered:
        store(answered)
    if not owned:
        return waiting
    _probe_owned(owned, probe_settings, store, waiter, serve)
    # Probing took a while: what we were waiting for has likely landed by now.
    late = ready_answers(waiting)
    if late:
        store([(job, late[job.key]) for job in waiting if job.key in late])
    return [job for job in waiting if job.key not in late]


def _sort_jobs(
    jobs: Sequence[Job],
) -> tuple[list[tuple[Job, dict[str, Any]]], list[Job], list[Job]]:
    """(answered now, claimed by this call, probed by another worker)."""
    ready = ready_answers(jobs)
    answered: list[tuple[Job, dict[str, Any]]] = []
    owned: list[Job] = []
    waiting: list[Job] = []
    for job in jobs:
        answer = ready.get(job.key)
        if answer is None and claim(job):
            # The owner publishes before it releases: an answer that landed between
            # our look and our claim is here now, and must not be asked for again.
            answer = fresh_answer(job)
            if answer is None:
                owned.append(job)
                continue
            release(job)
        if answer is not None:
            answered.append((job, answer))
        else:
            waiting.append(job)
    return answered, owned, waiting


def _probe_owned(
    owned: list[Job],
    probe_settings: ProbeSettings,
    store: Store,
    waiter: str | None,
    serve: Serve | None,
) -> None:
    """Probe the claimed jobs; publish, store and hand over each answer as it lands."""
    published: set[str] = set()

    def on_results(batch: list[tuple[ProbeSpec, ProbeAnswer]]) -> None:
        landed = []
        for spec, result in batch:
            job: Job = spec.key
            landed.append((job, publish(job, result.to_dict(), for_visitor=waiter is not None)))
            published.add(job.key)
        store(landed)
        if serve is not None and waiters_supported():
            _hand_over(landed, waiter, serve)

    try:
        run_probes_batched([job.spec() for job in owned], probe_settings, on_results)
    finally:
        # Interrupted (soft time limit, crash): free what we hold so others need not
        # wait for the lock to expire.
        for job in owned:
            if job.key not in published:
                release(job)


def _hand_over(landed: list[tuple[Job, dict[str, Any]]], waiter: str | None, serve: Serve) -> None:
    """Give each fresh answer, marked as reused, to the runs that registered for it."""
    now = time.time()
    handed = []
    for job, fresh in landed:
        # A run registered when it started and then became the owner keeps
        # its own answer, not a copy marked as reused.
        tokens = [token for token in take_waiters(job) if token != waiter]
        if tokens:
            reused = _reused({"data": fresh, "probed_at": now}, now)
            handed.append((job, reused, tokens))
    if handed:
        serve(handed)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
