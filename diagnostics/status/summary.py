"""What the status pages show, read from stored history: no outbound request per view.

A target's current state is the worst of its probes' latest answers (a beat
sample or a visitor's run, whichever is newer); its incidents come from the
latest status-page answer; its uptime from ``Target.uptime_days``. Days and
targets without data say so: nothing here is invented to fill a gap. An
answer taken while every control failed was not a measurement of the target:
when the newest answer is one, the state is "impaired" (we can't tell), never
the error our own network caused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_lazy, gettext_noop, ngettext

from diagnostics import charts
from diagnostics.models import (
    OUTCOME_LABELS,
    REFUSED,
    SEVERITY,
    ProbeResult,
    ProbeSample,
    Target,
)
from diagnostics.verdict import safe_link, status_page_word

UPTIME_DAYS = 90
NOT_CHECKED = "unchecked"
IMPAIRED = "impaired"
# Outcomes where the target answered as it meant to (for the latency line's marks).
ANSWERED = ("ok", "degraded", "maintenance")

STATE_LABELS = {
    **OUTCOME_LABELS,
    "ok": gettext_noop("Up"),
    "blocked": gettext_noop("Blocked for our server"),
    "challenged": gettext_noop("Challenged for our server"),
    "timeout": gettext_noop("Not answering"),
    NOT_CHECKED: gettext_noop("Not checked yet"),
    IMPAIRED: gettext_noop("Can't tell"),
}


# A Cloudflare block or challenge is the service answering and refusing *us*:
# neither up nor down for the public, and every surface says just that.
REFUSED_SENTENCE = gettext_lazy(
    "The service answered our server with a Cloudflare block or challenge, "
    "so we can't see whether it's up for you."
)


def impaired_sentence(at: datetime, several: bool = False) -> str:
    """What every surface says when our own network, not the target, failed.

    ``several``: said once above a list whose rows marked "Can't tell" are the ones meant.
    """
    moment = at.astimezone(UTC)
    values = {"time": f"{moment:%H:%M}", "date": f"{moment:%Y-%m-%d}"}
    if several:
        return (
            gettext(
                "Our own checks could not reach the internet at %(time)s UTC on %(date)s, "
                "so we can't tell whether the services marked “Can't tell” are up."
            )
            % values
        )
    return (
        gettext(
            "Our own checks could not reach the internet at %(time)s UTC on %(date)s, "
            "so we can't tell whether it is up."
        )
        % values
    )


@dataclass(frozen=True)
class Answer:
    """One probe's latest answer, from history or from a visitor's run."""

    probe: str
    outcome: str
    summary: str
    at: datetime
    evidence: dict[str, Any]
    # False when every control failed alongside it: says nothing about the target.
    measured: bool = True


@dataclass(frozen=True)
class Incident:
    name: str
    status: str
    impact: str
    url: str  # http(s) only, or "" when the page gave none we would link to


@dataclass
class TargetStatus:
    target: Target
    state: str
    checked_at: datetime | None
    answers: list[Answer]
    incidents: list[Incident]
    page_state: str  # what a status page claims, e.g. "major_outage"; "" otherwise
    uptime: charts.UptimeSummary
    uptime_svg: SafeString
    latency_svg: SafeString | None = None
    latency: charts.LatencySummary | None = None
    stale: bool = False
    impaired_at: datetime | None = None  # set when state is IMPAIRED

    @property
    def label(self) -> str:
        return gettext(STATE_LABELS.get(self.state, self.state))

    @property
    def impaired_sentence(self) -> str:
        return impaired_sentence(self.impaired_at) if self.impaired_at else ""

    @property
    def refused_sentence(self) -> str:
        """Why a "blocked for our server" state says nothing of the service being up or down."""
        if self.state not in REFUSED:
            return ""
        uptime = self.uptime
        if uptime.refused_checks:
            return (
                ngettext(
                    "Blocked for our server in %(refused)d of %(all)d check over the last "
                    "%(days)d days; we can't see whether it's up for you.",
                    "Blocked for our server in %(refused)d of %(all)d checks over the last "
                    "%(days)d days; we can't see whether it's up for you.",
                    uptime.all_checks,
                )
                % uptime.refused_counts
            )
        return str(REFUSED_SENTENCE)

    @property
    def page_state_label(self) -> str:
        return status_page_word(self.page_state)

    @property
    def age(self) -> str:
        return age_words(self.checked_at) if self.checked_at else ""


def age_words(moment: datetime, now: datetime | None = None) -> str:
    """'checked 3 min ago' style: short, and rounded down so it never looks fresher."""
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    if seconds < 60:
        return ngettext("%(count)d s ago", "%(count)d s ago", seconds) % {"count": seconds}
    if seconds < 3600:
        count = seconds // 60
        return ngettext("%(count)d min ago", "%(count)d min ago", count) % {"count": count}
    if seconds < 48 * 3600:
        count = seconds // 3600
        return ngettext("%(count)d h ago", "%(count)d h ago", count) % {"count": count}
    count = seconds // 86400
    return ngettext("%(count)d day ago", "%(count)d days ago", count) % {"count": count}


def latest_answers(target: Target) -> list[Answer]:
    """Each configured probe's newest answer, sample or run result alike."""
    answers = []
    for probe in target.probes or []:
        sample = (
            ProbeSample.objects.filter(target=target, probe=probe).order_by("-probed_at").first()
        )
        result = (
            ProbeResult.objects.filter(target=target, probe=probe).order_by("-created_at").first()
        )
        candidates = []
        if sample is not None:
            candidates.append(
                Answer(
                    probe,
                    sample.outcome,
                    sample.summary,
                    sample.probed_at,
                    _dict(sample),
                    sample.measured,
                )
            )
        if result is not None:
            candidates.append(
                Answer(
                    probe,
                    result.outcome,
                    result.summary,
                    result.created_at,
                    _dict(result),
                    result.region not in result.run.impaired_regions(),
                )
            )
        if candidates:
            answers.append(max(candidates, key=lambda a: a.at))
    return answers


def _dict(row: ProbeSample | ProbeResult) -> dict[str, Any]:
    return row.evidence if isinstance(row.evidence, dict) else {}


def worst_state(answers: list[Answer]) -> str:
    if not answers:
        return NOT_CHECKED
    known = [a.outcome if a.outcome in SEVERITY else "unknown" for a in answers]
    return max(known, key=SEVERITY.index)


def current_state(answers: list[Answer]) -> tuple[str, datetime | None]:
    """(state, when our checks were impaired): the newest answer decides which applies.

    When the newest answer was taken while every control failed, what we know
    now is that we can't tell; older measured answers would be out of date.
    """
    if not answers:
        return NOT_CHECKED, None
    newest = max(answers, key=lambda a: a.at)
    if not newest.measured:
        return IMPAIRED, newest.at
    return worst_state([a for a in answers if a.measured]), None


def incidents_of(answers: list[Answer]) -> tuple[list[Incident], str]:
    """Open incidents and the claimed state from the latest status-page answer."""
    for answer in answers:
        if answer.probe != "status":
            continue
        raw = answer.evidence.get("incidents") or []
        incidents = [
            Incident(
                name=str(item.get("name") or gettext("Unnamed incident"))[:200],
                status=str(item.get("status") or "")[:40],
                impact=str(item.get("impact") or "").replace("_", " ")[:40],
                url=safe_link(item.get("url")),
            )
            for item in raw
            if isinstance(item, dict)
        ]
        return incidents[:20], str(answer.evidence.get("state") or "")
    return [], ""


def status_for(target: Target, *, with_latency: bool = False) -> TargetStatus:
    answers = latest_answers(target)
    checked_at = max((a.at for a in answers), default=None)
    incidents, page_state = incidents_of(answers)
    # One probe, the one a visitor cares about: a name lookup that works while
    # the page is blocked must not make the service look "up 50%".
    days = target.uptime_days(UPTIME_DAYS, probe=primary_probe(target))
    state, impaired_at = current_state(answers)
    status = TargetStatus(
        target=target,
        state=state,
        impaired_at=impaired_at,
        checked_at=checked_at,
        answers=answers,
        incidents=incidents,
        page_state=page_state,
        uptime=charts.summarise_uptime(days),
        uptime_svg=charts.uptime_bar(
            days,
            chart_id=f"uptime-{target.slug}",
            label=gettext("%(name)s: uptime, one bar per day for %(days)d days")
            % {"name": target.name, "days": UPTIME_DAYS},
        ),
    )
    if checked_at is not None:
        # Beat samples every CHECKS_SAMPLE_SECONDS: three missed rounds is worth saying.
        stale_after = timedelta(seconds=3 * settings.CHECKS_SAMPLE_SECONDS)
        status.stale = timezone.now() - checked_at > stale_after
    if with_latency:
        end = timezone.now()
        points = latency_points(target, end)
        status.latency = charts.summarise_latency(points, refused_last_day(target, end))
        status.latency_svg = charts.latency_chart(
            points,
            end=end,
            chart_id=f"latency-{target.slug}",
            label=gettext("%(name)s: response time over the last 24 hours") % {"name": target.name},
        )
    return status


def primary_probe(target: Target) -> str | None:
    """The probe whose timing means most to a visitor: the page load, else the first."""
    probes = list(target.probes or [])
    for preferred in ("http", "status"):
        if preferred in probes:
            return preferred
    return probes[0] if probes else None


def latency_points(target: Target, end: datetime) -> list[charts.LatencyPoint]:
    """The primary probe's samples over the 24 hours before ``end``, from one region.

    One region only: lines from two continents interleaved would zigzag
    between their distances instead of showing how the service behaves.
    """
    probe = primary_probe(target)
    if probe is None:
        return []
    # Impaired samples are left out: a red mark there would blame the target. So are
    # refused ones: they time Cloudflare's edge refusing us, not the service.
    samples = ProbeSample.objects.filter(
        target=target,
        probe=probe,
        measured=True,
        probed_at__gt=end - timedelta(hours=24),
        probed_at__lte=end,
    ).exclude(outcome__in=REFUSED)
    latest = samples.order_by("-probed_at").first()
    if latest is None:
        return []
    rows = samples.filter(region=latest.region).values_list("probed_at", "latency_ms", "outcome")
    return [
        charts.LatencyPoint(at=at, latency_ms=latency, ok=outcome in ANSWERED)
        for at, latency, outcome in rows
    ]


def refused_last_day(target: Target, end: datetime) -> int:
    """The primary probe's checks refused to our server in the 24 hours before ``end``."""
    return ProbeSample.objects.filter(
        target=target,
        probe=primary_probe(target),
        measured=True,
        outcome__in=REFUSED,
        probed_at__gt=end - timedelta(hours=24),
        probed_at__lte=end,
    ).count()


def impaired_now(statuses: list[TargetStatus]) -> datetime | None:
    """The latest moment a card on the page could not tell, for one line above them all."""
    return max((s.impaired_at for s in statuses if s.impaired_at is not None), default=None)
