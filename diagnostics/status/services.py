"""A service's state in one sentence, and the status overview grouped by service.

Read from the same stored answers as the target cards (summary.status_for), so
the sentence on a service page, its home-page line and its cards never disagree.
What a visitor opens decides: the service's web apps, else its other checked
hosts; a status page only adds what it claims about itself. A service whose
targets were never probed says "not checked yet": nothing is inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext

from diagnostics.models import REFUSED, SEVERITY, Target
from diagnostics.status.summary import (
    IMPAIRED,
    NOT_CHECKED,
    TargetStatus,
    age_words,
    current_state,
    incidents_of,
    latest_answers,
    status_for,
)
from diagnostics.verdict import status_page_word
from helpcenter.models import Service

DOWN = ("down", "error", "timeout")
# Status-page claims worth a second sentence (an "operational" claim adds nothing).
PAGE_TROUBLE = ("degraded", "partial_outage", "major_outage", "maintenance")


@dataclass(frozen=True)
class Reading:
    """One target's current state, as its status card shows it (without the history)."""

    target: Target
    state: str
    checked_at: datetime | None
    page_state: str = ""  # what a status page claims about itself

    @property
    def page_state_label(self) -> str:
        return status_page_word(self.page_state)


def reading_of(status: TargetStatus) -> Reading:
    return Reading(status.target, status.state, status.checked_at, status.page_state)


def reading_for(target: Target) -> Reading:
    """The card's state without its 90-day bar: cheap enough for every home page view."""
    answers = latest_answers(target)
    state, _ = current_state(answers)
    checked_at = max((a.at for a in answers), default=None)
    return Reading(target, state, checked_at, incidents_of(answers)[1])


@dataclass
class ServiceState:
    """What our stored checks say about one service right now."""

    service: Service
    readings: list[Reading]
    statuses: list[TargetStatus] = field(default_factory=list)  # the cards, on its page
    state: str = NOT_CHECKED  # an outcome, IMPAIRED or NOT_CHECKED
    checked_at: datetime | None = None
    page_claims: list[Reading] = field(default_factory=list)

    @property
    def age(self) -> str:
        return age_words(self.checked_at) if self.checked_at else ""

    @property
    def phrase(self) -> str:
        """The short form after the service's name: "reachable from our server"."""
        return _phrase(self.state, bool(self.readings))

    @property
    def sentence(self) -> str:
        """ "Is it down right now?" answered in one honest sentence (more for a page's claim)."""
        values = {"name": self.service.name, "age": self.age}
        text = _sentence(self.state, bool(self.readings)) % values
        for reading in self.page_claims:
            text += " " + gettext("%(page)s itself says: %(claim)s.") % {
                "page": reading.target.name,
                "claim": reading.page_state_label,
            }
        return text


def _phrase(state: str, checked_at_all: bool) -> str:
    if not checked_at_all:
        return gettext("we do not check it yet")
    if state == NOT_CHECKED:
        return gettext("not checked yet")
    if state == IMPAIRED:
        return gettext("can't tell: our own checks could not reach the internet")
    if state == "ok":
        return gettext("reachable from our server")
    if state in REFUSED:
        return gettext("refused our server (a Cloudflare block or challenge)")
    if state in DOWN:
        return gettext("not answering our server properly")
    if state in ("degraded", "maintenance"):
        return gettext("answering our server, but degraded or in maintenance")
    return gettext("unclear answer to our server")


def _sentence(state: str, checked_at_all: bool) -> str:
    if not checked_at_all:
        return gettext("We do not check %(name)s yet, so we can't say whether it is down.")
    if state == NOT_CHECKED:
        return gettext("%(name)s has not been checked yet, so we can't say whether it is down.")
    if state == IMPAIRED:
        return gettext(
            "We can't tell whether %(name)s is down: when we checked %(age)s, "
            "our own server could not reach the internet."
        )
    if state == "ok":
        return gettext("%(name)s answered our server normally when we checked %(age)s.")
    if state in REFUSED:
        return gettext(
            "%(name)s answered our server with a Cloudflare block or challenge %(age)s, "
            "so we can't see whether it is up for you."
        )
    if state in DOWN:
        return gettext(
            "%(name)s did not answer our server properly when we checked %(age)s: it may be down."
        )
    if state in ("degraded", "maintenance"):
        return gettext(
            "%(name)s answered our server %(age)s, but its answers were degraded "
            "or it was in maintenance."
        )
    return gettext("%(name)s gave our server an unclear answer %(age)s.")


def _deciding(readings: list[Reading]) -> list[Reading]:
    """The targets that say whether the service is down: what a visitor opens, first."""
    for kind in (Target.Kind.WEB_APP, Target.Kind.API):
        chosen = [r for r in readings if r.target.kind == kind]
        if chosen:
            return chosen
    return [r for r in readings if r.target.kind != Target.Kind.STATUS_PAGE] or readings


def state_of(
    service: Service, readings: list[Reading], statuses: list[TargetStatus] | None = None
) -> ServiceState:
    """Combine a service's targets' states into its one state."""
    result = ServiceState(service, readings, statuses or [])
    result.page_claims = [
        r
        for r in readings
        if r.target.kind == Target.Kind.STATUS_PAGE and r.page_state in PAGE_TROUBLE
    ]
    checked = [r for r in _deciding(readings) if r.state != NOT_CHECKED]
    if not checked:
        return result
    result.checked_at = max((r.checked_at for r in checked if r.checked_at), default=None)
    if any(r.state == IMPAIRED for r in checked):
        # Our own network failed at the newest look: what we know now is that we can't tell.
        result.state = IMPAIRED
        return result
    known = [r.state if r.state in SEVERITY else "unknown" for r in checked]
    result.state = max(known, key=SEVERITY.index)
    return result


def _targets(service: Service) -> list[Target]:
    return list(Target.objects.filter(service=service, enabled=True))


def service_page_state(service: Service) -> ServiceState:
    """Its state and its targets' full cards (with the 24-hour latency) for its own page."""
    statuses = [status_for(target, with_latency=True) for target in _targets(service)]
    return state_of(service, [reading_of(s) for s in statuses], statuses)


def service_state(service: Service) -> ServiceState:
    """Its state alone, from the latest answers (no history): for one line about it."""
    return state_of(service, [reading_for(target) for target in _targets(service)])


def every_service() -> list[ServiceState]:
    """Each service's state, in the editors' order (for the home page's lines)."""
    return [service_state(service) for service in Service.objects.all()]


@dataclass(frozen=True)
class Group:
    """One section of the status overview: a service's targets, or the shared ones."""

    service: Service | None  # None: controls and what every service sits behind
    statuses: list[TargetStatus]
    state: ServiceState | None = None  # the service's one sentence; None for the shared


def grouped_overview() -> list[Group]:
    """Every enabled target's card, one group per service, the shared ones last."""
    targets = Target.objects.filter(enabled=True).select_related("service")
    by_service: dict[int | None, list[TargetStatus]] = {}
    for target in targets:
        by_service.setdefault(target.service_id, []).append(status_for(target))
    groups = []
    for service in Service.objects.all():
        statuses = by_service.get(service.pk)
        if statuses:
            state = state_of(service, [reading_of(s) for s in statuses], statuses)
            groups.append(Group(service, statuses, state))
    if None in by_service:
        groups.append(Group(None, by_service[None]))
    return groups
