"""Claims a verdict may make about the service, and what each needs to have been seen.

Pure like ``verdict``: a rule names the claims its text relies on, and the
verdict shows a claim's sentence only when this run's observations support it;
otherwise it shows what is known instead. Editors therefore cannot make a page
say "the service is up" when our server saw nothing of the sort.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext, gettext_noop

if TYPE_CHECKING:
    from diagnostics.verdict import Findings, Observation, RuleData

# Repeated from ``verdict`` so that module can import this one.
SERVER = "server"
BROWSER = "browser"

WEB = "web"
STATUS = "status"
OUTAGE_STATES = frozenset({"major_outage", "partial_outage"})
NOT_REACHED = frozenset({"down", "timeout", "error", "failed"})
TURNED_AWAY = frozenset({"blocked", "challenged"})


def _web(findings: Findings, vantage: str) -> list[Observation]:
    return [o for o in findings.at(vantage) if o.target_kind == WEB]


def _origin_failing(o: Observation) -> bool:
    return o.cloudflare_kind == "origin_error"


def _by_region(findings: Findings) -> dict[str, list[Observation]]:
    """Our server's web observations, grouped by the region that probed."""
    grouped: dict[str, list[Observation]] = {}
    for o in _web(findings, SERVER):
        grouped.setdefault(o.region, []).append(o)
    return grouped


def _regions_up(findings: Findings) -> list[str]:
    """Regions from which every web target answered with its page."""
    return [
        region
        for region, seen in _by_region(findings).items()
        if all(o.outcome == "ok" for o in seen)
    ]


def service_up(findings: Findings) -> bool:
    # One region that got every page is enough: the service is up, even where
    # another region's probe was turned away or lost its way.
    return bool(_regions_up(findings))


def reachable_from_browser(findings: Findings) -> bool:
    seen = _web(findings, BROWSER)
    return bool(seen) and all(o.outcome == "ok" for o in seen)


def blocked_for_server(findings: Findings) -> bool:
    return any(o.outcome in TURNED_AWAY for o in _web(findings, SERVER))


def _regions_turned_away(findings: Findings) -> list[str]:
    return list(dict.fromkeys(o.region for o in _web(findings, SERVER) if o.outcome in TURNED_AWAY))


def blocked_only_from_region(findings: Findings) -> bool:
    """Cloudflare turned our server away from some regions while another was let through."""
    away = _regions_turned_away(findings)
    return bool(away) and any(region not in away for region in _regions_up(findings))


def down_for_everyone(findings: Findings) -> bool:
    if any(o.status_state in OUTAGE_STATES for o in findings.at(SERVER) if o.target_kind == STATUS):
        return True
    web = _web(findings, SERVER)
    if any(_origin_failing(o) for o in web):
        return True
    # A silent service only means an outage when our server reaches the controls
    # from the region that heard nothing, and no region got the service's pages.
    silent = any(
        o.outcome in NOT_REACHED and findings.controls_failed(SERVER, o.region) is False
        for o in web
    )
    return silent and not service_up(findings)


CHECKS: dict[str, Callable[[Findings], bool]] = {
    "service_up": service_up,
    "reachable_from_server": service_up,
    "reachable_from_browser": reachable_from_browser,
    "blocked_for_server": blocked_for_server,
    "down_for_everyone": down_for_everyone,
    "blocked_only_from_region": blocked_only_from_region,
}

# The sentence a supported claim adds, and the honest one shown when it is not; in
# English here (marked for makemessages), translated where shown by ``_said``.
SENTENCES: dict[str, tuple[str, str]] = {
    "service_up": (
        gettext_noop("Our server reached the service just now, so it is up."),
        gettext_noop(
            "Our server did not get the service's page just now, so we can't tell whether it is up."
        ),
    ),
    "reachable_from_server": (
        gettext_noop("Our server reaches the service."),
        gettext_noop("Our server could not reach the service just now."),
    ),
    "reachable_from_browser": (
        gettext_noop(
            "Your browser reached it just now, so it may be failing only for some requests "
            "or from some places."
        ),
        "",
    ),
    "blocked_for_server": (
        gettext_noop("Our server is blocked as well: the rule may cover whole networks."),
        "",
    ),
    "down_for_everyone": (
        "",
        gettext_noop("We could not confirm an outage from here."),
    ),
    "blocked_only_from_region": ("", ""),  # composed from the regions; see below
}


# Words that assert a claim. A rule whose own text uses them must hold only when
# the claim does; the claim test reads every shown sentence against this list.
PHRASES: dict[str, tuple[str, ...]] = {
    "service_up": (
        "the service is up",
        "answers us",
        "reached the service",
        "service answers",
        "our server reaches the service",
    ),
    "reachable_from_browser": (
        "your browser reached",
        "reachable from your browser",
        "your browser got an answer",
    ),
    "blocked_for_server": ("our server is blocked", "turned our checking server away"),
    "down_for_everyone": ("down for everyone", "outage on their side", "reports an outage"),
    "blocked_only_from_region": (
        "away only from",
        "covers only some places",
        "only from some places",
    ),
}


def asserted(text: str) -> set[str]:
    """The claims a piece of shown text makes, by the phrases above."""
    lowered = text.lower()
    return {claim for claim, words in PHRASES.items() if any(w in lowered for w in words)}


def supported(claim: str, findings: Findings) -> bool:
    check = CHECKS.get(claim)
    return bool(check and check(findings))


def unsupported(claims: Iterable[str], findings: Findings) -> list[str]:
    """The claims these observations do not support (unknown claims never are)."""
    return [c for c in claims if not supported(c, findings)]


def _said(claim: str, holds: bool) -> str:
    """A claim's stock sentence in the active language; "" stays "" (gettext("") is the
    catalogue's header, not an empty sentence)."""
    text = SENTENCES.get(claim, ("", ""))[0 if holds else 1]
    return gettext(text) if text else ""


def browser_beside_server(findings: Findings) -> str:
    """The browser's reach read beside what our server saw, so the two never sit unreconciled.

    A browser's check of another site sees only whether an answer came, never what
    it said (a 1020 page or a 5xx is an answer too), and the sentence says so.
    """
    web = _web(findings, SERVER)
    if any(_origin_failing(o) for o in web):
        return gettext(
            "Your browser got an answer from it just now, but behind Cloudflare it fails for "
            "our server: the service's own servers are in trouble, and your browser's answer "
            "may have been that same error page (a browser check cannot see what it got)."
        )
    if blocked_for_server(findings):
        return gettext(
            "Your browser got an answer from it just now while Cloudflare turned our server "
            "away; a browser check cannot see whether that answer was the page or a block or "
            "challenge page."
        )
    if findings.controls_failed(SERVER) is True:
        return gettext(
            "Your browser got an answer from it just now; our server reaches nothing at the "
            "moment, so your browser's answer counts for more than ours."
        )
    if web and all(o.outcome == "ok" for o in web):
        return gettext("Your browser reached it just now too.")
    return _said("reachable_from_browser", True)


def _names(regions: Iterable[str]) -> str:
    named = [r or gettext("our home region") for r in regions]
    if len(named) == 1:
        return named[0]
    return gettext("%(list)s and %(last)s") % {
        "list": gettext(", ").join(named[:-1]),
        "last": named[-1],
    }


def _what_region_saw(region: str, seen: list[Observation]) -> str:
    """One clause per region, whole: "from X our server reached the service"."""
    values = {"region": _names([region])}
    if all(o.outcome == "ok" for o in seen):
        return gettext("from %(region)s our server reached the service") % values
    away = next((o for o in seen if o.outcome in TURNED_AWAY), None)
    if away is None:
        return gettext("from %(region)s our server got no page from the service") % values
    values["code"] = away.cloudflare_code
    if away.outcome == "challenged" and away.cloudflare_code:
        text = gettext("from %(region)s Cloudflare challenged our server (error %(code)s)")
    elif away.outcome == "challenged":
        text = gettext("from %(region)s Cloudflare challenged our server")
    elif away.cloudflare_code:
        text = gettext("from %(region)s Cloudflare blocked our server (error %(code)s)")
    else:
        text = gettext("from %(region)s Cloudflare blocked our server")
    return text % values


def region_by_region(findings: Findings) -> str:
    """Which of our server's regions saw what, in one sentence (several regions only)."""
    grouped = _by_region(findings)
    if len(grouped) < 2:
        return ""
    parts = [_what_region_saw(r, seen) for r, seen in grouped.items()]
    text = gettext("; ").join(parts)
    return gettext("%(clauses)s.") % {"clauses": text[0].upper() + text[1:]}


def blocked_only_from_region_sentence(findings: Findings) -> str:
    return gettext("%(regions)s The block covers only some places.") % {
        "regions": region_by_region(findings)
    }


def service_up_sentence(findings: Findings) -> str:
    up = _regions_up(findings)
    if len(_by_region(findings)) < 2 or len(up) == len(_by_region(findings)):
        return _said("service_up", True)
    return gettext("Our server reached the service from %(regions)s just now, so it is up.") % {
        "regions": _names(up)
    }


def blocked_for_server_sentence(findings: Findings) -> str:
    away = _regions_turned_away(findings)
    others = [r for r in _by_region(findings) if r not in away]
    if not others:
        return _said("blocked_for_server", True)
    return gettext(
        "Our server is blocked as well from %(away)s (not from %(others)s): "
        "the rule may cover whole networks or places."
    ) % {"away": _names(away), "others": _names(others)}


# Claims whose supported sentence depends on what else the run saw.
COMPOSED: dict[str, Callable[[Findings], str]] = {
    "reachable_from_browser": browser_beside_server,
    "blocked_only_from_region": blocked_only_from_region_sentence,
    "service_up": service_up_sentence,
    "blocked_for_server": blocked_for_server_sentence,
}


def sentences(claims: Iterable[str], findings: Findings) -> list[str]:
    out = []
    for claim in claims:
        if supported(claim, findings):
            text = COMPOSED[claim](findings) if claim in COMPOSED else _said(claim, True)
        else:
            text = _said(claim, False)
        if text:
            out.append(text)
    return out


# --- What a rule's own conditions guarantee, for checking its text when saved ----

ORIGIN_CODES = frozenset(
    {"origin_error", "500", "502", "503", "504", "520", "521", "522", "523", "524", "525", "526"}
)


def _on_web(rule: RuleData, vantage: str, outcomes: frozenset[str]) -> bool:
    return (
        rule.vantage == vantage
        and rule.target_kind == WEB
        and bool(rule.outcomes)
        and rule.outcomes <= outcomes
    )


def guaranteed(claim: str, rule: RuleData) -> bool:
    """Whether every run this rule matches supports the claim (judged conservatively)."""
    if claim == "service_up":
        return _on_web(rule, SERVER, frozenset({"ok"}))
    if claim == "reachable_from_browser":
        return _on_web(rule, BROWSER, frozenset({"ok"}))
    if claim == "blocked_for_server":
        return _on_web(rule, SERVER, TURNED_AWAY)
    if claim == "down_for_everyone":
        outage_page = (
            rule.target_kind == STATUS
            and bool(rule.status_states)
            and (rule.status_states <= OUTAGE_STATES)
        )
        origin = (
            rule.vantage == SERVER and bool(rule.cloudflare) and rule.cloudflare <= ORIGIN_CODES
        )
        silent = (
            _on_web(rule, SERVER, NOT_REACHED)
            and rule.controls_failed is False
            and rule.region_scope == "every"
        )
        return outage_page or origin or silent
    if claim == "blocked_only_from_region":
        return _on_web(rule, SERVER, TURNED_AWAY) and rule.region_scope == "some"
    return False


def unguaranteed(rule: RuleData) -> list[str]:
    """Claims the rule's headline or explanation asserts that its conditions do not ensure."""
    text = f"{rule.headline} {rule.explanation}"
    return sorted(c for c in asserted(text) if not guaranteed(c, rule))


# The claims each starter rule's verdict adds when this run supports them (and
# the honest "we can't tell" otherwise), by rule name. Kept here, not in the rule
# rows, because the seeding command copies rule fields to rows; Rule.as_data and
# seed_rules both read it.
STARTER_CLAIMS: dict[str, tuple[str, ...]] = {
    "Visitor sees or pasted error 1020": ("service_up", "blocked_for_server"),
    "Visitor sees an address ban (1005-1008, 1106)": ("blocked_for_server",),
    "Visitor sees another Cloudflare block": ("service_up", "blocked_for_server"),
    "Status page reports an outage": ("reachable_from_browser",),
    "Cloudflare reports the service's servers failing (5xx)": ("reachable_from_browser",),
    "Our server cannot reach the web app while controls are fine": ("reachable_from_browser",),
    "The service turns our server away": ("reachable_from_browser",),
    "The service turns our server away from some regions only": (
        "blocked_only_from_region",
        "reachable_from_browser",
    ),
    "Our control checks fail": ("reachable_from_browser",),
    "The browser cannot reach the web app, but reaches the controls": ("reachable_from_server",),
    "Visitor sees a blank page": ("service_up",),
    "Visitor says nothing loads": ("service_up",),
    "Nothing wrong found": ("service_up",),
}
