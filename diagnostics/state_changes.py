"""State changes: turning the beat's samples into events, with hysteresis.

A target's state is read from its primary probe (the page load, else the status
page, else its first probe), the same one its uptime bar counts. A change is
stored only when the newest STATUS_CHANGE_SAMPLES measured samples from one
region all agree on a state other than the last one stored. Samples taken while
every control failed (``measured=False``) are skipped, not counted either way:
our own network going down is neither an outage nor a recovery of the target.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from diagnostics import signals
from diagnostics.models import ProbeSample, StateChange, Target

log = logging.getLogger(__name__)

COARSE = {
    "ok": "ok",
    "degraded": "degraded",
    "maintenance": "maintenance",
    "blocked": "blocked",
    "challenged": "blocked",
    "down": "down",
    "error": "down",
    "timeout": "down",
}
RECENT_CHANGES = 10


def coarse_state(outcome: str) -> str:
    return COARSE.get(outcome, "unknown")


def primary_probe(target: Target) -> str | None:
    """The probe whose answer stands for the target (as its uptime bar counts it)."""
    probes = list(target.probes or [])
    for preferred in ("http", "status"):
        if preferred in probes:
            return preferred
    return probes[0] if probes else None


def current_state(target: Target, region: str) -> StateChange | None:
    return target.state_changes.filter(region=region).order_by("-at").first()


def detect(target: Target, region: str, needed: int | None = None) -> StateChange | None:
    """Store and announce a change for ``target`` if its newest samples call for one."""
    needed = needed or settings.STATUS_CHANGE_SAMPLES
    probe = primary_probe(target)
    if probe is None:
        return None
    newest = list(
        ProbeSample.objects.filter(target=target, region=region, probe=probe, measured=True)
        .order_by("-probed_at")[:needed]
        .only("outcome", "summary", "probed_at")
    )
    if len(newest) < needed:
        return None
    states = {coarse_state(sample.outcome) for sample in newest}
    if len(states) != 1:
        return None  # the samples disagree: no change yet, whatever the last one said
    state = states.pop()
    last = current_state(target, region)
    if last is not None and (last.to_state == state or last.at >= newest[0].probed_at):
        return None
    evidence = (
        f"{needed} check{'s' if needed != 1 else ''} in a row from {region} "
        f"({probe}): {newest[0].summary}"
    )
    return _store(target, region, newest[0].probed_at, last, state, evidence)


def _store(
    target: Target,
    region: str,
    at: datetime,
    last: StateChange | None,
    state: str,
    evidence: str,
) -> StateChange | None:
    try:
        with transaction.atomic():
            change = StateChange.objects.create(
                target=target,
                region=region,
                at=at,
                from_state=last.to_state if last else "unchecked",
                to_state=state,
                evidence=evidence[:300],
            )
    except IntegrityError:
        return None  # another worker settling the same round stored it first
    transaction.on_commit(
        lambda: signals.announce(signals.state_changed, StateChange, change=change)
    )
    return change


def detect_region(region: str) -> list[StateChange]:
    """Look for changes on every enabled target after a sampling round in ``region``."""
    changes = []
    for target in Target.objects.filter(enabled=True).exclude(kind=Target.Kind.CONTROL):
        change = detect(target, region)
        if change is not None:
            changes.append(change)
    return changes


def recent(
    target: Target | None = None, limit: int = RECENT_CHANGES, *, service_id: int | None = None
) -> list[StateChange]:
    """The newest changes, of one target, of one service's own targets, or of all."""
    changes = StateChange.objects.select_related("target").filter(target__enabled=True)
    if target is not None:
        changes = changes.filter(target=target)
    if service_id is not None:
        # Its own targets only: the shared ones (Cloudflare) have their own feed and page.
        changes = changes.filter(target__service_id=service_id)
    return list(changes.order_by("-at", "-pk")[:limit])
