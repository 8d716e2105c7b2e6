"""The live status fragment: each watched target's latest stored state and its age.

Read only from what the probes already stored (periodic ProbeSample rows and
visitors' ProbeResult rows): a page view never sends a request out, however
many visitors open the "is it down?" fix at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from diagnostics.models import OUTCOME_LABELS, REFUSED, ProbeResult, ProbeSample, Target
from diagnostics.status.summary import (
    IMPAIRED,
    REFUSED_SENTENCE,
    impaired_sentence,
)
from diagnostics.status.summary import STATE_LABELS as STATUS_STATE_LABELS

STATE_LABELS = {
    "operational": gettext_noop("All systems operational"),
    "degraded": gettext_noop("Degraded performance"),
    "partial_outage": gettext_noop("Partial outage"),
    "major_outage": gettext_noop("Major outage"),
    "maintenance": gettext_noop("Maintenance in progress"),
}

# The probe that says most about a target, when it has several.
_PREFERRED: dict[str, str] = {Target.Kind.STATUS_PAGE: "status", Target.Kind.WEB_APP: "http"}


@dataclass(frozen=True)
class LiveRow:
    target: Target
    outcome: str = ""  # "" when the target was never checked
    summary: str = ""
    state: str = ""  # status pages only: operational, major_outage, ...
    checked_at: datetime | None = None
    age: str = ""  # "40 s", "3 min", "2 h"
    # False when every control failed alongside this answer: it says nothing of the target.
    measured: bool = True

    @property
    def checked(self) -> bool:
        return self.checked_at is not None

    @property
    def css_state(self) -> str:
        if not self.checked:
            return "unchecked"
        return self.outcome if self.measured else IMPAIRED

    @property
    def text(self) -> str:
        """The sentence after the label; none when we can't tell (the list says why, once)."""
        if not self.measured:
            return ""
        if self.outcome in REFUSED and not self.state:
            # The probe's own summary ("Blocked by Cloudflare") would read as an outage.
            return str(REFUSED_SENTENCE)
        return self.summary

    @property
    def label(self) -> str:
        if not self.measured:
            return gettext(STATUS_STATE_LABELS[IMPAIRED])
        if self.state:
            return gettext(STATE_LABELS.get(self.state, self.state.replace("_", " ").capitalize()))
        if self.outcome in REFUSED:
            return gettext(STATUS_STATE_LABELS[self.outcome])
        return gettext(OUTCOME_LABELS.get(self.outcome, self.outcome))


def describe_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return ngettext("%(count)d s", "%(count)d s", seconds) % {"count": seconds}
    if seconds < 2 * 3600:
        count = seconds // 60
        return ngettext("%(count)d min", "%(count)d min", count) % {"count": count}
    if seconds < 2 * 86400:
        count = seconds // 3600
        return ngettext("%(count)d h", "%(count)d h", count) % {"count": count}
    count = seconds // 86400
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _latest(target: Target) -> ProbeSample | ProbeResult | None:
    probe = _PREFERRED.get(target.kind)
    samples = target.samples.all()
    results = ProbeResult.objects.filter(target=target)
    if probe in (target.probes or []):
        samples = samples.filter(probe=probe)
        results = results.filter(probe=probe)
    sample = samples.order_by("-probed_at").first()
    result = results.order_by("-created_at").first()
    if sample is None or result is None:
        return sample or result
    return sample if sample.probed_at >= result.created_at else result


def row_for(target: Target, now: datetime | None = None) -> LiveRow:
    now = now or timezone.now()
    latest = _latest(target)
    if latest is None:
        return LiveRow(target)
    if isinstance(latest, ProbeSample):
        at, measured = latest.probed_at, latest.measured
    else:
        at, measured = latest.created_at, latest.region not in latest.run.impaired_regions()
    evidence = latest.evidence if isinstance(latest.evidence, dict) else {}
    state = str(evidence.get("state") or "") if latest.probe == "status" else ""
    return LiveRow(
        target=target,
        outcome=latest.outcome,
        summary=latest.summary,
        state=state,
        checked_at=at,
        age=describe_age((now - at).total_seconds()),
        measured=measured,
    )


def live_rows(now: datetime | None = None, service_id: int | None = None) -> list[LiveRow]:
    """Status pages first, then the web apps they speak for: a few targets, two queries each.

    With a service: its own and the shared ones (what every service sits behind),
    so a guide about one service never shows another's state.
    """
    targets = Target.objects.filter(
        enabled=True, kind__in=[Target.Kind.STATUS_PAGE, Target.Kind.WEB_APP]
    )
    if service_id is not None:
        targets = targets.filter(Q(service_id=service_id) | Q(service__isnull=True))
    rows = [row_for(target, now) for target in targets]
    return sorted(rows, key=lambda row: row.target.kind != Target.Kind.STATUS_PAGE)


def impaired_note(rows: list[LiveRow]) -> str:
    """One sentence for the rows that can't tell, at the latest such moment; "" if none."""
    moments = [row.checked_at for row in rows if not row.measured and row.checked_at]
    if not moments:
        return ""
    return impaired_sentence(max(moments), several=True)
