"""Every combination of what a run can see, read against what the verdict then says.

The expected code comes from the rule order written out in plain words below
(visitor's own error first, then outages, then our own health, then our server
turned away, then the browser, then the visitor's vaguer answers); the shown
text is read through ``claims.asserted`` so no sentence may claim what the
observations do not support.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from diagnostics import claims
from diagnostics.management.commands.seed_rules import starter_rule_data
from diagnostics.verdict import (
    BROWSER,
    SERVER,
    Findings,
    Observation,
    RuleData,
    decide,
    support_message,
    visitor_observations,
)

RULES = starter_rule_data()
OUR_RAY = "0000000000000000"


def web(outcome: str, **extra: str) -> Observation:
    return Observation(SERVER, "web", "web", "http", outcome, **extra)


SERVER_SEES = {
    "up": (web("ok"),),
    "blocked-1020": (
        web("blocked", cloudflare_code="1020", cloudflare_kind="block", ray_id=OUR_RAY),
    ),
    "challenged": (web("challenged", cloudflare_kind="challenge", ray_id=OUR_RAY),),
    "cloudflare-5xx": (
        web("down", cloudflare_code="522", cloudflare_kind="origin_error", ray_id=OUR_RAY),
    ),
    "no-name": (Observation(SERVER, "web", "web", "dns", "error"),),
    "timeout": (web("timeout"),),
}
CONTROLS = {
    "ok": tuple(Observation(SERVER, c, "control", "http", "ok") for c in ("c1", "c2")),
    "failed": tuple(Observation(SERVER, c, "control", "http", "error") for c in ("c1", "c2")),
}
BROWSER_SEES = {
    "reached": (
        Observation(BROWSER, "web", "web", "fetch", "ok"),
        Observation(BROWSER, "c1", "control", "fetch", "ok"),
    ),
    "failed": (
        Observation(BROWSER, "web", "web", "fetch", "failed"),
        Observation(BROWSER, "c1", "control", "fetch", "ok"),
    ),
    "not-run": (),
}
VISITOR_SAYS = {
    "nothing": "",
    "1020": "block_1020",
    "1015": "rate_limit",
    "challenge-loop": "challenge_loop",
    "nothing-loads": "no_load",
}
STATUS_PAGE = {
    "operational": Observation(
        SERVER, "status", "status", "status", "ok", status_state="operational"
    ),
    "outage": Observation(
        SERVER, "status", "status", "status", "down", status_state="major_outage"
    ),
    "maintenance": Observation(
        SERVER, "status", "status", "status", "ok", status_state="under_maintenance"
    ),
    "unreadable": Observation(SERVER, "status", "status", "status", "error"),
}

COMBINATIONS = list(
    itertools.product(SERVER_SEES, CONTROLS, BROWSER_SEES, VISITOR_SAYS, STATUS_PAGE)
)


def build(srv: str, ctl: str, brw: str, vis: str, page: str) -> Findings:
    answer = VISITOR_SAYS[vis]
    return Findings(
        observations=(
            *visitor_observations(answer, "", "", ""),
            *SERVER_SEES[srv],
            *CONTROLS[ctl],
            *BROWSER_SEES[brw],
            STATUS_PAGE[page],
        ),
        visitor_answer=answer,
        browser_reported=brw != "not-run",
        browser_online=True if brw != "not-run" else None,
    )


def expected(srv: str, ctl: str, brw: str, vis: str, page: str) -> str:
    if vis == "1020":
        return "blocked-1020"
    if vis == "1015":
        return "rate-limited-1015"
    if vis == "challenge-loop":
        return "challenge-loop"
    if page == "outage":
        return "down-for-everyone"
    if srv == "cloudflare-5xx":
        return "service-outage"
    if ctl == "failed":
        return "checks-impaired"
    if srv in ("timeout", "no-name"):
        return "down-for-everyone"
    if srv in ("blocked-1020", "challenged"):
        return "checks-blocked"
    if brw == "failed":
        return "your-connection"
    if vis == "nothing-loads":
        return "nothing-loads"
    return "all-clear"


def test_the_matrix_has_at_least_forty_combinations() -> None:
    assert len(COMBINATIONS) >= 40
    codes = {expected(*combo) for combo in COMBINATIONS}
    assert len(codes) >= 9  # the table reaches most verdicts, not one over and over


@pytest.mark.parametrize("combo", COMBINATIONS, ids=["/".join(c) for c in COMBINATIONS])
def test_verdict_and_what_it_says(combo: tuple[str, str, str, str, str]) -> None:
    found = build(*combo)
    verdict = decide(found, RULES)
    assert verdict.code == expected(*combo)
    shown = " ".join([verdict.headline, verdict.explanation])
    for claim in claims.asserted(shown):
        assert claims.supported(claim, found), f"{claim!r} not seen, yet shown: {shown}"
    # Our own server's Ray ID never goes to the service's support.
    assert OUR_RAY not in support_message(verdict, found_time())


def found_time() -> datetime:
    return datetime(2026, 11, 30, 10, 12, tzinfo=UTC)


def test_offline_with_1020_says_we_cannot_tell_whether_it_is_up() -> None:
    # The report from the issue: no internet, every server check failed, 1020 picked.
    verdict = decide(build("no-name", "failed", "not-run", "1020", "unreadable"), RULES)
    assert verdict.code == "blocked-1020"
    assert "The service is up" not in verdict.explanation
    assert "can't tell whether it is up" in verdict.explanation


def test_a_1020_with_our_server_up_says_so_and_with_it_blocked_says_that() -> None:
    up = decide(build("up", "ok", "not-run", "1020", "operational"), RULES)
    assert "it is up" in up.explanation
    blocked = decide(build("blocked-1020", "ok", "not-run", "1020", "operational"), RULES)
    assert "Our server is blocked as well" in blocked.explanation
    assert "so it is up" not in blocked.explanation


def test_an_outage_the_browser_reached_is_reconciled() -> None:
    verdict = decide(build("cloudflare-5xx", "ok", "reached", "nothing", "operational"), RULES)
    assert verdict.code == "service-outage"
    # A browser can tell only that an answer came back, not what it was.
    assert "Your browser got an answer from it just now" in verdict.explanation


def test_the_checker_refuses_what_was_not_seen() -> None:
    found = build("timeout", "failed", "not-run", "nothing", "unreadable")
    assert claims.unsupported(["service_up", "down_for_everyone"], found) == [
        "service_up",
        "down_for_everyone",
    ]
    # An editor's rule that leans on a claim shows the honest sentence instead.
    rule = RuleData(code="x", headline="x", explanation="Try later.", claims=("service_up",))
    assert decide(found, [rule]).explanation.startswith("Our server did not get the service's page")


def test_the_support_message_keeps_the_visitors_own_ray_id_and_page_time() -> None:
    found = Findings(
        observations=(
            *visitor_observations("", "1020", "8f0c1a2b3c4d5e6f", "FRA"),
            *SERVER_SEES["blocked-1020"],
        )
    )
    verdict = decide(found, RULES)
    text = support_message(verdict, found_time(), page_time="2026-11-30 10:12:03 UTC")
    assert "Ray ID: 8f0c1a2b3c4d5e6f-FRA" in text
    assert "Time on your error page: 2026-11-30 10:12:03 UTC" in text
    assert "ran the check" not in text


def test_no_starter_rule_text_claims_what_its_conditions_do_not_ensure() -> None:
    assert {
        rule.code: claims.unguaranteed(rule) for rule in RULES if claims.unguaranteed(rule)
    } == {}


@pytest.mark.parametrize(
    ("rule", "refused"),
    [
        (RuleData(code="x", headline="The service is up", vantage="visitor"), ["service_up"]),
        (
            RuleData(
                code="x",
                headline="It's down for everyone",
                target_kind="web",
                outcomes=frozenset({"timeout"}),
                vantage="server",
            ),
            ["down_for_everyone"],
        ),
        (
            RuleData(
                code="x",
                headline="It's down for everyone",
                target_kind="web",
                outcomes=frozenset({"timeout"}),
                vantage="server",
                controls_failed=False,
            ),
            # One region's silence beside another's answer is no outage.
            ["down_for_everyone"],
        ),
        (
            RuleData(
                code="x",
                headline="It's down for everyone",
                target_kind="web",
                outcomes=frozenset({"timeout"}),
                vantage="server",
                controls_failed=False,
                region_scope="every",
            ),
            [],
        ),
        (
            RuleData(
                code="x",
                headline="Our server is turned away only from some places",
                vantage="server",
                target_kind="web",
                outcomes=frozenset({"blocked"}),
            ),
            ["blocked_only_from_region"],
        ),
        (
            RuleData(
                code="x",
                headline="Our server is turned away only from some places",
                vantage="server",
                target_kind="web",
                outcomes=frozenset({"blocked"}),
                region_scope="some",
            ),
            [],
        ),
        (
            RuleData(
                code="x",
                headline="Our server is blocked",
                vantage="server",
                target_kind="web",
                outcomes=frozenset({"blocked"}),
            ),
            [],
        ),
    ],
)
def test_a_rule_asserting_an_unsupported_claim_is_refused(
    rule: RuleData, refused: list[str]
) -> None:
    assert claims.unguaranteed(rule) == refused


def test_saving_such_a_rule_in_the_admin_is_refused() -> None:
    from django.core.exceptions import ValidationError

    from diagnostics.models import Rule

    with pytest.raises(ValidationError, match="service up"):
        Rule(
            name="x",
            code="x",
            vantage="visitor",
            headline="x",
            explanation="The service is up, but you are blocked.",
        ).clean()
    Rule(
        name="x", code="x", vantage="visitor", headline="x", explanation="You are blocked."
    ).clean()


@pytest.mark.parametrize(
    ("server", "controls", "expected"),
    [
        ("cloudflare-5xx", "ok", "behind Cloudflare it fails for our server"),
        ("blocked-1020", "ok", "while Cloudflare turned our server away"),
        ("timeout", "failed", "our server reaches nothing at the moment"),
        ("up", "ok", "Your browser reached it just now too."),
    ],
)
def test_the_browser_s_answer_is_read_beside_what_our_server_saw(
    server: str, controls: str, expected: str
) -> None:
    findings = Findings(
        observations=(*SERVER_SEES[server], *CONTROLS[controls], *BROWSER_SEES["reached"]),
        browser_reported=True,
        browser_online=True,
    )
    (sentence,) = claims.sentences(["reachable_from_browser"], findings)
    assert expected in sentence
    # Nothing the sentence says goes beyond what was seen.
    assert claims.unsupported(claims.asserted(sentence), findings) == []


# --- Two regions: which one saw what -----------------------------------------

REGIONS = ("eu", "asia")
IN_REGION = {
    "up": lambda r: (Observation(SERVER, "web", "web", "http", "ok", region=r),),
    "blocked": lambda r: (
        Observation(
            SERVER, "web", "web", "http", "blocked", cloudflare_code="1020",
            cloudflare_kind="block", ray_id=OUR_RAY, region=r,
        ),
    ),
    "timeout": lambda r: (Observation(SERVER, "web", "web", "http", "timeout", region=r),),
}  # fmt: skip
REGION_CONTROLS = {
    "ok": lambda r: tuple(
        Observation(SERVER, c, "control", "http", "ok", region=r) for c in ("c1", "c2")
    ),
    "failed": lambda r: tuple(
        Observation(SERVER, c, "control", "http", "error", region=r) for c in ("c1", "c2")
    ),
}
REGION_COMBOS = list(
    itertools.product(IN_REGION, REGION_CONTROLS, IN_REGION, REGION_CONTROLS, ("nothing", "1020"))
)


def build_regions(eu: str, eu_ctl: str, asia: str, asia_ctl: str, vis: str) -> Findings:
    answer = VISITOR_SAYS[vis]
    return Findings(
        observations=(
            *visitor_observations(answer, "", "", ""),
            *IN_REGION[eu]("eu"),
            *REGION_CONTROLS[eu_ctl]("eu"),
            *IN_REGION[asia]("asia"),
            *REGION_CONTROLS[asia_ctl]("asia"),
            STATUS_PAGE["operational"],
        ),
        visitor_answer=answer,
    )


def expected_regions(eu: str, eu_ctl: str, asia: str, asia_ctl: str, vis: str) -> str:
    seen = {eu, asia}
    if vis == "1020":
        return "blocked-1020"
    if eu_ctl == asia_ctl == "failed":
        return "checks-impaired"
    if seen == {"timeout"}:
        return "down-for-everyone"  # silent from every region, and one reaches the controls
    if seen == {"blocked", "up"}:
        return "checks-blocked-in-region"
    if "blocked" in seen:
        return "checks-blocked"
    return "all-clear"  # one region's silence beside another's page is no outage


@pytest.mark.parametrize("combo", REGION_COMBOS, ids=["/".join(c) for c in REGION_COMBOS])
def test_two_regions_verdict_and_what_it_says(combo: tuple[str, str, str, str, str]) -> None:
    found = build_regions(*combo)
    verdict = decide(found, RULES)
    assert verdict.code == expected_regions(*combo)
    shown = " ".join([verdict.headline, verdict.explanation])
    for claim in claims.asserted(shown):
        assert claims.supported(claim, found), f"{claim!r} not seen, yet shown: {shown}"
    assert OUR_RAY not in support_message(verdict, found_time())


def test_a_block_seen_from_one_region_only_says_which_region_saw_what() -> None:
    verdict = decide(build_regions("up", "ok", "blocked", "ok", "nothing"), RULES)
    assert verdict.code == "checks-blocked-in-region"
    assert verdict.regions == ("asia",)
    assert verdict.headline == ("The service turns our checking server away only from some places")
    assert verdict.explanation.startswith(
        "From eu our server reached the service; from asia Cloudflare blocked our server "
        "(error 1020). The block covers only some places."
    )


def test_a_visitor_s_1020_names_the_regions_where_our_server_is_blocked_too() -> None:
    verdict = decide(build_regions("up", "ok", "blocked", "ok", "1020"), RULES)
    assert verdict.code == "blocked-1020"
    assert "Our server reached the service from eu just now, so it is up." in verdict.explanation
    assert "Our server is blocked as well from asia (not from eu)" in verdict.explanation


def test_an_impaired_region_s_silence_is_not_an_outage() -> None:
    # asia reaches nothing, not even the controls; eu gets the page.
    verdict = decide(build_regions("up", "ok", "timeout", "failed", "nothing"), RULES)
    assert verdict.code == "all-clear"
    assert not claims.down_for_everyone(build_regions("up", "ok", "timeout", "failed", "nothing"))
    # Both silent, but only eu reaches the controls: eu's silence counts.
    assert claims.down_for_everyone(build_regions("timeout", "ok", "timeout", "failed", "nothing"))


def test_blocked_only_from_a_region_needs_another_region_that_got_the_page() -> None:
    # asia heard nothing at all, so it cannot show that the block stops at eu's border.
    found = build_regions("blocked", "ok", "timeout", "failed", "nothing")
    assert not claims.blocked_only_from_region(found)
    assert decide(found, RULES).code == "checks-blocked"
