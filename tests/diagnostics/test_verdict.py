"""The verdict over a table of findings, with the starter rules and without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from diagnostics.management.commands.seed_rules import starter_rule_data
from diagnostics.verdict import (
    BROWSER,
    FALLBACK,
    SERVER,
    VISITOR,
    Findings,
    FixLink,
    Observation,
    RuleData,
    decide,
    fixes_for,
    support_message,
    visitor_observations,
)

RULES = starter_rule_data()


def server(kind: str, outcome: str, slug: str = "", **extra: str) -> Observation:
    probe = "status" if kind == "status" else "http"
    return Observation(SERVER, slug or kind, kind, probe, outcome, **extra)


def browser(kind: str, outcome: str, slug: str = "") -> Observation:
    return Observation(BROWSER, slug or kind, kind, "fetch", outcome)


WEB_OK = server("web", "ok")
CONTROLS_OK = (server("control", "ok", "c1"), server("control", "ok", "c2"))
CONTROLS_DOWN = (server("control", "timeout", "c1"), server("control", "down", "c2"))
STATUS_OK = server("status", "ok", status_state="operational")
ALL_FINE = (WEB_OK, STATUS_OK, *CONTROLS_OK)
IN_EU = tuple(server("control", "ok", c, region="eu") for c in ("c1", "c2"))
IN_ASIA = tuple(server("control", "ok", c, region="asia") for c in ("c1", "c2"))


def findings(*obs: Observation, answer: str = "", paste: tuple[str, str, str] = ("", "", ""),
             browser_reported: bool = False, online: bool | None = None,
             service: str = "") -> Findings:  # fmt: skip
    visitor = visitor_observations(answer, *paste)
    return Findings(
        observations=tuple(visitor) + obs,
        visitor_answer=answer,
        browser_reported=browser_reported or any(o.vantage == BROWSER for o in obs),
        browser_online=online,
        service=service,
    )


CASES = [
    # (name, findings, verdict code, first fix slug)
    ("everything fine", findings(*ALL_FINE), "all-clear", "clear-site-cookies"),
    ("no observations at all", findings(), "all-clear", "clear-site-cookies"),
    ("visitor picks 1020", findings(*ALL_FINE, answer="block_1020"), "blocked-1020",
     "use-trusted-vpn-or-turn-vpn-off"),
    ("visitor pastes 1020", findings(*ALL_FINE, paste=("1020", "8f0c1a2b3c4d5e6f", "FRA")),
     "blocked-1020", "use-trusted-vpn-or-turn-vpn-off"),
    ("pasted 1009 beats a vague answer", findings(*ALL_FINE, answer="other",
     paste=("1009", "", "")), "country-blocked-1009", "turn-off-vpn-or-change-country"),
    ("too many requests", findings(*ALL_FINE, answer="rate_limit"), "rate-limited-1015",
     "stop-retrying-and-wait"),
    ("pasted 1015", findings(paste=("1015", "", "")), "rate-limited-1015",
     "stop-retrying-and-wait"),
    ("endless challenge", findings(*ALL_FINE, answer="challenge_loop"), "challenge-loop",
     "enable-javascript-and-cookies"),
    ("pasted 1006", findings(paste=("1006", "", "")), "address-banned", "get-a-new-address"),
    ("pasted 1106", findings(paste=("1106", "", "")), "address-banned", "get-a-new-address"),
    ("pasted Ray ID, no code", findings(paste=("", "8f0c1a2b3c4d5e6f", "")),
     "blocked-cloudflare", "use-trusted-vpn-or-turn-vpn-off"),
    ("status page major outage", findings(WEB_OK, *CONTROLS_OK,
     server("status", "down", status_state="major_outage")), "down-for-everyone",
     "check-status-page"),
    ("status page partial outage", findings(WEB_OK, *CONTROLS_OK,
     server("status", "degraded", status_state="partial_outage")), "down-for-everyone",
     "check-status-page"),
    ("status page maintenance is not an outage", findings(WEB_OK, *CONTROLS_OK,
     server("status", "degraded", status_state="maintenance")), "all-clear",
     "clear-site-cookies"),
    ("web app times out, controls fine", findings(server("web", "timeout"), *CONTROLS_OK),
     "down-for-everyone", "check-status-page"),
    ("web app down and no controls configured", findings(server("web", "down")),
     "down-for-everyone", "check-status-page"),
    ("web app down, controls down too", findings(server("web", "down"), *CONTROLS_DOWN),
     "checks-impaired", "check-status-page"),
    ("Cloudflare 522", findings(server("web", "down", cloudflare_code="522",
     cloudflare_kind="origin_error"), *CONTROLS_OK), "service-outage", "wait-for-the-service"),
    ("our server is blocked", findings(server("web", "blocked", cloudflare_code="1020",
     cloudflare_kind="block"), *CONTROLS_OK), "checks-blocked", None),
    ("browser cannot reach the app, reaches controls", findings(*ALL_FINE,
     browser("web", "failed"), browser("control", "ok")), "your-connection",
     "use-trusted-vpn-or-turn-vpn-off"),
    ("browser times out on the app, no browser controls", findings(*ALL_FINE,
     browser("web", "timeout")), "your-connection", "use-trusted-vpn-or-turn-vpn-off"),
    ("browser reaches nothing", findings(*ALL_FINE, browser("web", "failed"),
     browser("control", "timeout")), "your-connection-down", "check-internet-connection"),
    ("browser is offline", findings(*ALL_FINE, Observation(BROWSER, probe="online",
     outcome="failed"), browser_reported=True, online=False), "your-connection-down",
     "check-internet-connection"),
    ("browser reaches everything", findings(*ALL_FINE, browser("web", "ok"),
     browser("control", "ok")), "all-clear", "clear-site-cookies"),
    ("blank page, all fine", findings(*ALL_FINE, answer="blank_page"), "blank-page",
     "clear-site-cookies"),
    ("nothing loads, all fine", findings(*ALL_FINE, answer="no_load"), "nothing-loads",
     "check-internet-connection"),
    ("blocked from asia only, eu gets the page", findings(server("web", "ok", region="eu"),
     server("web", "blocked", region="asia", cloudflare_code="1020", cloudflare_kind="block"),
     *IN_EU, *IN_ASIA), "checks-blocked-in-region", None),
    ("blocked from both regions", findings(*(server("web", "blocked", region=r,
     cloudflare_code="1020", cloudflare_kind="block") for r in ("eu", "asia")), *IN_EU,
     *IN_ASIA), "checks-blocked", None),
    ("silent from asia only is no outage", findings(server("web", "ok", region="eu"),
     server("web", "timeout", region="asia"), *IN_EU, *IN_ASIA), "all-clear",
     "clear-site-cookies"),
    ("silent from every region is an outage", findings(server("web", "timeout", region="eu"),
     server("web", "timeout", region="asia"), *IN_EU, *IN_ASIA), "down-for-everyone",
     "check-status-page"),
    ("asia's network is down, eu is fine", findings(server("web", "ok", region="eu"),
     server("web", "timeout", region="asia"), *IN_EU, *(server("control", "timeout", c,
     region="asia") for c in ("c1", "c2"))), "all-clear", "clear-site-cookies"),
    ("every region's network is down", findings(*(server(k, "timeout", s, region=r)
     for r in ("eu", "asia") for k, s in (("web", "web"), ("control", "c1")))),
     "checks-impaired", "check-status-page"),
    ("an outage outranks 'nothing loads'", findings(server("web", "down"), *CONTROLS_OK,
     answer="no_load"), "down-for-everyone", "check-status-page"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "found", "code", "first_fix"), CASES, ids=[c[0] for c in CASES])
def test_it_decides_over_the_starter_rules(
    name: str, found: Findings, code: str, first_fix: str | None
) -> None:
    verdict = decide(found, RULES)
    assert verdict.code == code
    assert (verdict.fixes[0].slug if verdict.fixes else None) == first_fix


def test_the_1020_fixes_keep_their_order() -> None:
    verdict = decide(findings(answer="block_1020", service="chatgpt"), RULES)
    assert [f.slug for f in verdict.fixes] == [
        "use-trusted-vpn-or-turn-vpn-off",
        "clear-site-cookies",
        "disable-browser-extensions",
        "restart-router",
        "check-internet-connection",
        "switch-browser",
        "check-service-status",
    ]
    assert verdict.headline.startswith("Blocked by Cloudflare (error 1020)")
    assert verdict.tone == "bad"


GENERAL_1020 = [
    "use-trusted-vpn-or-turn-vpn-off",
    "clear-site-cookies",
    "disable-browser-extensions",
    "restart-router",
    "check-internet-connection",
    "switch-browser",
    "contact-site-with-ray-id",
]


def test_a_service_without_its_own_guide_gets_the_general_guides_fixes() -> None:
    verdict = decide(findings(answer="block_1020", service="discord"), RULES)
    assert [f.slug for f in verdict.fixes] == GENERAL_1020
    assert not any(f.service for f in verdict.fixes)


@pytest.mark.parametrize("service", ["chatgpt", "discord", ""])
def test_no_service_is_offered_the_same_advice_twice(service: str) -> None:
    """Every starter rule, every verdict: each fix once, and from one guide only for a
    service (its own, else the general ones), even where the two name fixes apart."""
    for rule in RULES:
        fixes = fixes_for(rule.fixes, service)
        slugs = [f.slug for f in fixes]
        assert len(slugs) == len(set(slugs)), rule.code
        if service:
            assert len({f.service for f in fixes}) <= 1, rule.code
    down = decide(findings(server("status", "ok", status_state="major_outage"),
                           service=service), RULES)  # fmt: skip
    assert down.code == "down-for-everyone"
    assert len(down.fixes) == (4 if not service else 2)


def test_the_first_matching_rule_wins() -> None:
    first = RuleData(code="first", headline="A", vantage=VISITOR, cloudflare=frozenset({"1020"}))
    second = RuleData(code="second", headline="B", vantage=VISITOR)
    assert decide(findings(answer="block_1020"), [first, second]).code == "first"
    assert decide(findings(answer="block_1020"), [second, first]).code == "second"


def test_with_no_rules_it_falls_back_to_the_all_clear() -> None:
    assert decide(findings(*ALL_FINE), []) == FALLBACK


def test_a_blank_rule_matches_anything() -> None:
    rule = RuleData(code="any", headline="Any", fixes=(FixLink("f", "F", "/f/"),))
    assert decide(findings(server("web", "down")), [rule]).code == "any"


def test_conditions_must_hold_on_the_same_observation() -> None:
    # A web app that is OK and a control that is down must not add up to "web app down".
    rule = RuleData(code="web-down", headline="x", target_kind="web", outcomes=frozenset({"down"}))
    found = findings(server("web", "ok"), server("control", "down"))
    assert decide(found, [rule]).code == FALLBACK.code


def test_it_carries_the_ray_id_for_the_support_message() -> None:
    verdict = decide(findings(paste=("1020", "8f0c1a2b3c4d5e6f", "FRA")), RULES)
    assert (verdict.cloudflare_code, verdict.ray_id, verdict.colo) == (
        "1020",
        "8f0c1a2b3c4d5e6f",
        "FRA",
    )
    assert verdict.is_cloudflare_block
    text = support_message(verdict, datetime(2026, 3, 1, 14, 5, tzinfo=UTC))
    assert "Error code: 1020" in text
    assert "Ray ID: 8f0c1a2b3c4d5e6f-FRA" in text
    assert "Time you ran the check (UTC): 2026-03-01 14:05 UTC" in text


def test_an_unknown_tone_is_shown_as_a_warning() -> None:
    rule = RuleData(code="x", headline="x", tone="purple")
    assert decide(findings(), [rule]).tone == "warn"
