"""When a subscription's notice is due, and where the offer is made at all.

The offer is made only where our server can watch the recovery itself: a
target our own checks saw failing (down, an outage, or turning our server
away too). A block only the visitor's browser meets ends where we cannot see
it, so no offer is made for it; the fixes are what helps there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from diagnostics import state_changes
from diagnostics.models import CheckRun, ProbeSample, StateChange, Target

OFFERED_KINDS = (Target.Kind.WEB_APP, Target.Kind.API, Target.Kind.STATUS_PAGE)
# Verdict codes of a run whose server-side view is worth nothing.
NOT_OBSERVED = frozenset({"checks-impaired"})
# States of a status card with nothing to wait for (or nothing we could watch).
NO_OFFER_STATES = frozenset({"ok", "unchecked", "impaired"})


def latest_change(target: Target) -> StateChange | None:
    return StateChange.objects.filter(target=target).order_by("-at", "-pk").first()


def back_since(target: Target, since: datetime) -> StateChange | None:
    """The change that says ``target`` is up, if our checks since ``since`` agree; else None.

    The stored state alone is not enough: a visitor may sign up from a report
    whose run saw a failure the state has not caught up with yet. So the newest
    measured answer must also be newer than the sign-up, and say "ok".
    """
    change = latest_change(target)
    if change is None or change.to_state != "ok":
        return None
    probe = state_changes.primary_probe(target)
    newest = (
        ProbeSample.objects.filter(target=target, probe=probe, measured=True)
        .order_by("-probed_at")
        .first()
    )
    if newest is None or newest.probed_at <= since or newest.outcome != "ok":
        return None
    return change


def offer_targets(run: CheckRun, verdict: Any) -> list[Target]:
    """Targets of a finished run that our server saw failing, from a region that worked."""
    if verdict is None or getattr(verdict, "code", "") in NOT_OBSERVED or not run.is_finished:
        return []
    if getattr(verdict, "tone", "") == "ok":
        return []  # beside "everything looks fine", waiting for a recovery would contradict it
    impaired = set(run.impaired_regions())
    failing: dict[int, Target] = {}
    for result in run.results.select_related("target"):
        if result.region in impaired or result.target.kind not in OFFERED_KINDS:
            continue
        if result.outcome != "ok" and result.target.enabled:
            failing[result.target.pk] = result.target
    return sorted(failing.values(), key=lambda t: (t.order, t.name))


def offered_on_status(state: str) -> bool:
    return state not in NO_OFFER_STATES
