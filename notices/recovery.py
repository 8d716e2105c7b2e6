"""When a subscription's notice is due, and where the offer is made at all.

The offer is made only where our server can watch the recovery itself: a
target our own checks saw failing (down, an outage, or turning our server
away too). A block only the visitor's browser meets ends where we cannot see
it, so no offer is made for it; the fixes are what helps there. With several
regions, "back" means back in every region that watches the target.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from diagnostics import state_changes
from diagnostics.models import CheckRun, ProbeSample, StateChange, Target

OFFERED_KINDS = (Target.Kind.WEB_APP, Target.Kind.API, Target.Kind.STATUS_PAGE)
# Verdict codes of a run whose server-side view is worth nothing: our checks are
# impaired, or the service turns our server away while it may well be up (the
# verdict says "we can't see it from here", so "when it's back" would contradict it).
NOT_OBSERVED = frozenset({"checks-impaired", "checks-blocked", "checks-blocked-in-region"})
# States of a status card with nothing to wait for (or nothing we could watch).
NO_OFFER_STATES = frozenset({"ok", "unchecked", "impaired"})


def latest_changes(target: Target) -> dict[str, StateChange]:
    """The newest state of ``target`` in each region that watches it.

    With regions named (CHECKS_REGIONS), a region taken out of the list no
    longer counts: its last word would otherwise hold every notice back forever.
    """
    regions = list(settings.CHECKS_REGIONS) or list(
        StateChange.objects.filter(target=target)
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    )
    found = {region: state_changes.current_state(target, region) for region in regions}
    return {region: change for region, change in found.items() if change is not None}


def _recovered(states: dict[str, StateChange]) -> StateChange | None:
    """The newest of ``states`` if they all say "ok"; else None."""
    if not states or any(change.to_state != "ok" for change in states.values()):
        return None
    return max(states.values(), key=lambda change: (change.at, change.pk))


def back_everywhere(target: Target) -> StateChange | None:
    """The newest recovery if every region watching ``target`` now says "ok"; else None.

    One region seeing the service again is not "it's back" for a visitor who may
    sit behind another: the notice waits for the last region to agree.
    """
    return _recovered(latest_changes(target))


def back_since(target: Target, since: datetime) -> StateChange | None:
    """The change that says ``target`` is up, if our checks since ``since`` agree; else None.

    The stored states alone are not enough: a visitor may sign up from a report
    whose run saw a failure the states have not caught up with yet. So in every
    region the newest measured answer must also be newer than the sign-up, and
    say "ok".
    """
    states = latest_changes(target)
    change = _recovered(states)
    if change is None:
        return None
    probe = state_changes.primary_probe(target)
    for region in states:
        newest = (
            ProbeSample.objects.filter(target=target, region=region, probe=probe, measured=True)
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
    service = [t for t in failing.values() if t.kind != Target.Kind.STATUS_PAGE]
    # A status page reporting an outage is answered, not down: beside a failing app
    # its "back" adds nothing the app's own notice does not say, so it is left out.
    return sorted(service or failing.values(), key=lambda t: (t.order, t.name))


def offered_on_status(state: str) -> bool:
    return state not in NO_OFFER_STATES
