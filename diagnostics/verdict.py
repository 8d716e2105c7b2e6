"""Turn what a run found into one plain-language verdict and a ranked list of fixes.

Pure on purpose: plain dataclasses in, a dataclass out, no Django. The rules are
data an editor orders in the admin (``diagnostics.models.Rule``); the models
turn rows into the shapes below and this module only compares fields. The
first rule whose every filled-in condition holds wins, so editors express
"otherwise" by order, and a blank condition means "any".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from diagnostics import claims as claim_checks

SERVER = "server"
BROWSER = "browser"
VISITOR = "visitor"
VANTAGES = (SERVER, BROWSER, VISITOR)

CONTROL = "control"
FAILED_OUTCOMES = frozenset({"down", "error", "timeout", "failed"})

# What a visitor can tell us they see, and the Cloudflare signal each answer
# implies, so a rule about "1020" matches the answer and a pasted 1020 alike.
# Marked for makemessages; the templates translate them where they are shown.
VISITOR_ANSWERS: dict[str, str] = {
    "block_1020": gettext_noop("The “Access denied, error code 1020” page"),
    "rate_limit": gettext_noop("“Too many requests” or error 1015"),
    "challenge_loop": gettext_noop("A “Just a moment…” page that never ends"),
    "blank_page": gettext_noop("A blank page"),
    "no_load": gettext_noop("Nothing loads at all"),
    "other": gettext_noop("Something else"),
}
ANSWER_SIGNALS: dict[str, str] = {
    "block_1020": "1020",
    "rate_limit": "1015",
    "challenge_loop": "challenge",
}

TONES = ("ok", "warn", "bad")

# Where, among our server's regions, a rule's observation must hold. Blank: any one
# region is enough. "some": from some regions only, while another region's probe of
# the same target got its page ("blocked only from asia"). "every": from every
# region that probed that target, so one region's trouble is never read as everyone's.
REGION_SCOPES = ("", "some", "every")


@dataclass(frozen=True)
class Observation:
    """One thing seen from one vantage point: a server probe row, a browser fetch, a visitor."""

    vantage: str
    target: str = ""  # target slug; blank for the visitor's own report
    target_kind: str = ""
    probe: str = ""
    outcome: str = ""
    cloudflare_code: str = ""  # "1020", "522"…
    cloudflare_kind: str = ""  # "block", "rate_limit", "challenge", "origin_error"
    status_state: str = ""  # a status page's state, e.g. "major_outage"
    ray_id: str = ""
    colo: str = ""
    region: str = ""  # where our server probed from; blank for the browser and the visitor

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES

    def cloudflare_tokens(self) -> set[str]:
        return {token for token in (self.cloudflare_code, self.cloudflare_kind) if token}


@dataclass(frozen=True)
class Findings:
    observations: tuple[Observation, ...] = ()
    visitor_answer: str = ""
    browser_reported: bool = False
    browser_online: bool | None = None
    service: str = ""  # the slug of the service the run is about; "" for none

    def at(self, vantage: str) -> list[Observation]:
        return [o for o in self.observations if o.vantage == vantage]

    def controls_failed(self, vantage: str, region: str | None = None) -> bool | None:
        """True when every control target failed from there; None when we cannot say.

        ``region`` narrows our server's controls to one region: a region that
        reaches nothing says nothing about the service, whatever the others saw.
        """
        if vantage == BROWSER:
            if not self.browser_reported:
                return None
            if self.browser_online is False:
                return True
        controls = [
            o
            for o in self.at(vantage)
            if o.target_kind == CONTROL and (region is None or o.region == region)
        ]
        if not controls:
            return None
        return all(o.failed for o in controls)

    def regions(self) -> list[str]:
        """The regions our server probed from, in first-seen order."""
        return list(dict.fromkeys(o.region for o in self.at(SERVER)))


@dataclass(frozen=True)
class FixLink:
    slug: str
    title: str
    url: str
    fix_id: int = 0
    ask_if_it_worked: bool = True  # False for advice such as "wait for it to recover"
    service: str = ""  # the slug of the service its guide is about; "" for a general guide


@dataclass(frozen=True)
class RuleData:
    """One editable rule; every condition left blank (or None) matches anything."""

    code: str
    headline: str
    explanation: str = ""
    tone: str = "warn"
    fixes: tuple[FixLink, ...] = ()
    vantage: str = ""
    target_kind: str = ""
    target: str = ""
    probe: str = ""
    outcomes: frozenset[str] = frozenset()
    cloudflare: frozenset[str] = frozenset()  # codes or kinds: {"1005", "1006"}, {"challenge"}
    status_states: frozenset[str] = frozenset()
    visitor_answer: str = ""
    controls_failed: bool | None = None
    region_scope: str = ""  # see REGION_SCOPES
    service: str = ""  # only for runs about this service (a slug); "" for every service
    rule_id: int | None = None
    # Claims about the service the verdict adds only when this run supports them
    # (see ``diagnostics.claims``); the rule's own text must not assert them.
    claims: tuple[str, ...] = ()

    @property
    def observes(self) -> bool:
        """Whether the rule asks about a single observation (not only about the run)."""
        return bool(
            self.vantage
            or self.target_kind
            or self.target
            or self.probe
            or self.outcomes
            or self.cloudflare
            or self.status_states
        )

    def matches_observation(self, obs: Observation) -> bool:
        return (
            (not self.vantage or obs.vantage == self.vantage)
            and (not self.target_kind or obs.target_kind == self.target_kind)
            and (not self.target or obs.target == self.target)
            and (not self.probe or obs.probe == self.probe)
            and (not self.outcomes or obs.outcome in self.outcomes)
            and (not self.cloudflare or bool(obs.cloudflare_tokens() & self.cloudflare))
            and (not self.status_states or obs.status_state in self.status_states)
        )

    def match(self, findings: Findings) -> tuple[bool, Observation | None]:
        if self.service and findings.service != self.service:
            return False, None
        if self.visitor_answer and findings.visitor_answer != self.visitor_answer:
            return False, None
        # Controls are judged where the rule looks from; the server by default.
        # "Not all failed" also holds when there are no controls to ask.
        where = self.vantage if self.vantage == BROWSER else SERVER
        if not self.observes:
            run_level = self.controls_failed is None
            return run_level or (
                findings.controls_failed(where) is True
            ) is self.controls_failed, None
        for obs in findings.observations:
            if self.matches_observation(obs) and self._holds_around(obs, findings, where):
                return True, obs
        return False, None

    def _holds_around(self, obs: Observation, findings: Findings, where: str) -> bool:
        """The run-wide conditions, read for the region that saw ``obs``."""
        if self.controls_failed is not None:
            # Our server's controls count in the region of the observation: one
            # region's lost network must not make another's answer look like an outage.
            region = obs.region if where == SERVER and obs.vantage == SERVER else None
            if (findings.controls_failed(where, region) is True) is not self.controls_failed:
                return False
        if not self.region_scope:
            return True
        peers = [
            o
            for o in findings.at(SERVER)
            if o.target == obs.target and o.probe == obs.probe and o.region != obs.region
        ]
        if self.region_scope == "some":
            # "Only from here" needs another region that got the page: a region
            # that heard nothing at all cannot tell us the block stops at its border.
            return obs.vantage == SERVER and any(
                o.outcome == "ok" and not self.matches_observation(o) for o in peers
            )
        return all(self.matches_observation(o) for o in peers)  # "every"

    def regions_seen(self, findings: Findings, obs: Observation) -> tuple[str, ...]:
        """The regions whose probe of ``obs``'s target met this rule's conditions."""
        return tuple(
            o.region
            for o in findings.at(SERVER)
            if o.target == obs.target and o.probe == obs.probe and self.matches_observation(o)
        )


@dataclass(frozen=True)
class Verdict:
    code: str
    headline: str
    explanation: str
    tone: str
    fixes: tuple[FixLink, ...] = ()
    rule_id: int | None = None
    cloudflare_code: str = ""
    ray_id: str = ""
    colo: str = ""
    # With several server regions: those where the rule's observation held.
    regions: tuple[str, ...] = ()

    @property
    def is_cloudflare_block(self) -> bool:
        return bool(self.cloudflare_code) and self.cloudflare_code.startswith("1")


# In English here (marked for makemessages); ``decide`` hands out a translated copy.
FALLBACK = Verdict(
    code="all-clear",
    headline=gettext_noop("Everything looks fine from here"),
    explanation=gettext_noop(
        "Nothing our checks saw points to a block or an outage. "
        "If it still fails for you, the cause is probably on your device or network."
    ),
    tone="ok",
)


def decide(findings: Findings, rules: Sequence[RuleData]) -> Verdict:
    """The first rule that matches wins; with none, the built-in all-clear."""
    for rule in rules:
        matched, obs = rule.match(findings)
        if not matched:
            continue
        # Only what the visitor saw goes to the service's support: a Ray ID from our
        # own server's probe is of no use to them.
        own = obs is not None and obs.vantage == VISITOR and obs.cloudflare_code
        signal = obs if own else _first_signal(findings)
        facts = claim_checks.sentences(rule.claims, findings)
        return Verdict(
            code=rule.code,
            headline=rule.headline,
            explanation=" ".join([*facts, rule.explanation] if rule.explanation else facts),
            tone=rule.tone if rule.tone in TONES else "warn",
            fixes=fixes_for(rule.fixes, findings.service),
            rule_id=rule.rule_id,
            cloudflare_code=signal.cloudflare_code if signal else "",
            ray_id=signal.ray_id if signal else "",
            colo=signal.colo if signal else "",
            regions=_regions(rule, findings, obs),
        )
    return replace(
        FALLBACK,
        headline=gettext(FALLBACK.headline),
        explanation=gettext(FALLBACK.explanation),
    )


def fixes_for(links: Sequence[FixLink], service: str) -> tuple[FixLink, ...]:
    """The fixes to offer for a run about ``service``, in the rule's order.

    A rule may link the same advice twice: from a service's own guide (written
    for it) and from a general guide (written for any service). A service the
    rule links fixes of its own for gets those; any other service gets the
    general ones; another service's own fixes never show. Per rule, not per
    fix: the two guides need not name their fixes alike (check-status-page and
    check-service-status-page), and one list mixing both would give the same
    advice twice. A run about no service (an install without
    services) is offered every fix once, by slug.
    """
    if service:
        own = tuple(link for link in links if link.service == service)
        return own or tuple(link for link in links if not link.service)
    seen: set[str] = set()
    offered = []
    for link in links:
        if link.slug not in seen:
            seen.add(link.slug)
            offered.append(link)
    return tuple(offered)


def _regions(rule: RuleData, findings: Findings, obs: Observation | None) -> tuple[str, ...]:
    if obs is None or obs.vantage != SERVER or len(findings.regions()) < 2:
        return ()
    return rule.regions_seen(findings, obs)


def _first_signal(findings: Findings) -> Observation | None:
    # A visitor's pasted Ray ID is the one their support ticket needs; never our own.
    return next((o for o in findings.at(VISITOR) if o.cloudflare_code and o.ray_id), None)


def visitor_observations(answer: str, code: str, ray_id: str, colo: str) -> list[Observation]:
    """What the visitor told us, as observations: the pasted code first, then the answer."""
    found: list[Observation] = []
    if code or ray_id:
        found.append(
            Observation(
                VISITOR,
                cloudflare_code=code,
                cloudflare_kind=_kind_for_code(code) if code else "block",
                ray_id=ray_id,
                colo=colo,
            )
        )
    signal = ANSWER_SIGNALS.get(answer)
    if signal:
        is_code = signal.isdigit()
        found.append(
            Observation(
                VISITOR,
                cloudflare_code=signal if is_code else "",
                cloudflare_kind=_kind_for_code(signal) if is_code else signal,
                ray_id=ray_id,
                colo=colo,
            )
        )
    return found


def _kind_for_code(code: str) -> str:
    if code == "1015":
        return "rate_limit"
    if code.startswith("5"):
        return "origin_error"
    return "block"


def split_tokens(text: str) -> frozenset[str]:
    """Editors type lists as "down, timeout": split on commas and spaces, drop blanks."""
    return frozenset(t.strip().lower() for t in text.replace(",", " ").split() if t.strip())


def support_message(
    verdict: Verdict,
    when: datetime,
    extra: Iterable[str] = (),
    page_time: str = "",
    service: str = "",
) -> str:
    """Plain text a visitor can paste into a support form: code, Ray ID, a labelled time.

    ``page_time`` is the time printed on the visitor's error page, when they pasted
    one; otherwise the time they ran the check is given, and labelled as that.
    ``service``: the name of the service the run was about, which the message names.
    """
    lines = [verdict.headline]
    if service:
        lines.append(gettext("Service: %(name)s") % {"name": service})
    if verdict.cloudflare_code:
        lines.append(gettext("Error code: %(code)s") % {"code": verdict.cloudflare_code})
    if verdict.ray_id:
        ray = f"{verdict.ray_id}-{verdict.colo}" if verdict.colo else verdict.ray_id
        lines.append(gettext("Ray ID: %(ray)s") % {"ray": ray})
    if page_time:
        lines.append(gettext("Time on your error page: %(time)s") % {"time": page_time})
    else:
        lines.append(
            gettext("Time you ran the check (UTC): %(time)s UTC")
            % {"time": when.strftime("%Y-%m-%d %H:%M")}
        )
    lines.extend(extra)
    return "\n".join(lines)


# --- Showing and accepting what the checks found ------------------------------


@dataclass(frozen=True)
class EvidenceItem:
    label: str
    value: str
    url: str = ""  # only ever http(s)


def safe_link(url: object) -> str:
    text = str(url or "")
    return text if text.startswith(("https://", "http://")) else ""


# What a status page claims, as words inside a sentence ("The status page itself says:
# major outage"); a state we do not know is shown as the page gave it.
STATUS_PAGE_WORDS = {
    "operational": pgettext_lazy("status page state", "operational"),
    "degraded": pgettext_lazy("status page state", "degraded"),
    "partial_outage": pgettext_lazy("status page state", "partial outage"),
    "major_outage": pgettext_lazy("status page state", "major outage"),
    "maintenance": pgettext_lazy("status page state", "maintenance"),
}


def status_page_word(state: str) -> str:
    word = STATUS_PAGE_WORDS.get(state)
    return str(word) if word else state.replace("_", " ")


def evidence_items(evidence: object) -> list[EvidenceItem]:
    """The few facts worth showing under a result row, as plain label/value pairs."""
    if not isinstance(evidence, dict):
        return []
    items: list[EvidenceItem] = []
    if evidence.get("status") is not None:
        items.append(EvidenceItem(gettext("Status code"), str(evidence["status"])))
    cloudflare = evidence.get("cloudflare") or {}
    if isinstance(cloudflare, dict):
        if cloudflare.get("code"):
            items.append(EvidenceItem(gettext("Cloudflare error"), str(cloudflare["code"])))
        if cloudflare.get("ray_id"):
            items.append(EvidenceItem(gettext("Ray ID"), str(cloudflare["ray_id"])))
        if cloudflare.get("colo"):
            items.append(EvidenceItem(gettext("Data centre"), str(cloudflare["colo"])))
    if evidence.get("expires_at"):
        items.append(EvidenceItem(gettext("Certificate expires"), str(evidence["expires_at"])[:10]))
    if evidence.get("state"):
        items.append(
            EvidenceItem(gettext("Status page says"), status_page_word(str(evidence["state"])))
        )
    for incident in (evidence.get("incidents") or [])[:5]:
        if isinstance(incident, dict):
            name = str(incident.get("name") or gettext("Incident"))
            items.append(EvidenceItem(gettext("Incident"), name, safe_link(incident.get("url"))))
    if evidence.get("detail"):
        items.append(EvidenceItem(gettext("Detail"), str(evidence["detail"])[:200]))
    return items


BROWSER_OUTCOMES = frozenset({"ok", "failed", "timeout", "skipped"})


def clean_browser_report(data: object, allowed: set[str]) -> dict[str, object] | None:
    """Keep only well-formed answers about targets we asked the browser to check."""
    if not isinstance(data, dict):
        return None
    fetches: dict[str, dict[str, object]] = {}
    raw = data.get("fetches")
    for slug, fetched in raw.items() if isinstance(raw, dict) else []:
        if slug not in allowed or not isinstance(fetched, dict):
            continue
        outcome = fetched.get("outcome")
        if outcome not in BROWSER_OUTCOMES:
            continue
        ms = fetched.get("ms")
        good = isinstance(ms, int | float) and not isinstance(ms, bool) and 0 <= ms < 600_000
        fetches[slug] = {"outcome": outcome, "ms": round(float(ms), 1) if good else None}  # type: ignore[arg-type]

    def flag(name: str) -> bool | None:
        value = data.get(name)
        return value if isinstance(value, bool) else None

    offset = data.get("clock_offset_ms")
    if not isinstance(offset, int) or isinstance(offset, bool) or abs(offset) > 10**10:
        offset = None
    return {
        "online": flag("online"),
        "cookies": flag("cookies"),
        "clock_offset_ms": offset,
        "fetches": fetches,
    }
