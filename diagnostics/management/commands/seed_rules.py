"""Starter verdict rules: missing ones are created, unedited ones updated, edits kept.

The rules are plain data (``STARTER_RULES``) so the verdict unit tests can run
them without a database: ``starter_rule_data()`` turns them into the shapes
``diagnostics.verdict.decide`` reads.

Every starter rule is for every service. Where a service has its own guide for
the situation (ChatGPT's 1020 and outage guides), a rule links that guide's
fixes and the general guide's: ``verdict.fixes_for`` shows a run the fixes
written for its service, else the general ones. A linked fix the content lacks
(a guide not imported yet) is left out and linked on a later setup; the rule's
recorded digest is of what was linked, so the longer list then reads as a
starter update, not as an editor's edit.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand

from diagnostics.claims import STARTER_CLAIMS
from diagnostics.models import Rule, RuleFix
from diagnostics.verdict import FixLink, RuleData, split_tokens
from helpcenter.models import Fix
from helpcenter.starter import OUTCOMES, Links, seed_row

# Guides about one service (its own words for the fixes below)...
A1020 = "chatgpt-access-denied-1020"
DOWN = "is-chatgpt-down"
# ...and general guides, which name no service.
G1020 = "cloudflare-error-1020-access-denied"
A1015 = "cloudflare-error-1015-rate-limited"
LOOP = "cloudflare-just-a-moment-loop"
A1009 = "cloudflare-error-1009-country-blocked"
BANNED = "cloudflare-address-banned-1005-1006"
OUTAGE = "cloudflare-5xx-service-outage"
# The service each service's own guide above is about, as its front matter says
# (tests/diagnostics/test_seed_rules_policy.py holds them equal): only for
# starter_rule_data, which has no database to ask.
OWN_GUIDES = {A1020: "chatgpt", DOWN: "chatgpt"}

FIXES_1020 = [
    (A1020, "use-trusted-vpn-or-turn-vpn-off"),
    (A1020, "clear-site-cookies"),
    (A1020, "disable-browser-extensions"),
    (A1020, "restart-router"),
    (A1020, "check-internet-connection"),
    (A1020, "switch-browser"),
    (A1020, "check-service-status"),
    (G1020, "use-trusted-vpn-or-turn-vpn-off"),
    (G1020, "clear-site-cookies"),
    (G1020, "disable-browser-extensions"),
    (G1020, "restart-router"),
    (G1020, "check-internet-connection"),
    (G1020, "switch-browser"),
    (G1020, "contact-site-with-ray-id"),
]
# Down for everyone: the service's own status page and patience.
FIXES_DOWN = [
    (DOWN, "check-status-page"),
    (DOWN, "wait-and-retry"),
    (OUTAGE, "check-service-status-page"),
    (OUTAGE, "wait-for-the-service"),
]

# Order matters: the first match wins. What the visitor saw is the most specific
# evidence, so it comes first; then outages; then our own health; then the
# browser's view; the all-clear last.
STARTER_RULES: list[dict[str, Any]] = [
    {
        "order": 10,
        "name": "Visitor sees or pasted error 1020",
        "vantage": "visitor",
        "cloudflare_codes": "1020",
        "code": "blocked-1020",
        "tone": "bad",
        "headline": "Blocked by Cloudflare (error 1020): "
        "the block is about your address or network",
        "explanation": "A firewall rule in front of the service refuses requests "
        "that look like yours. It usually judges your IP address (a VPN, a shared or flagged "
        "network), sometimes your browser's cookies or extensions.",
        "fixes": FIXES_1020,
    },
    {
        "order": 20,
        "name": "Visitor sees too many requests (1015)",
        "vantage": "visitor",
        "cloudflare_codes": "1015, rate_limit",
        "code": "rate-limited-1015",
        "tone": "warn",
        "headline": "Rate limited by Cloudflare (error 1015): too many requests from your address",
        "explanation": "The block lifts by itself after a while. Every retry can restart the "
        "clock, so the best thing is to stop and wait.",
        "fixes": [(A1015, "stop-retrying-and-wait"), (A1015, "find-what-sends-too-many-requests")],
    },
    {
        "order": 30,
        "name": "Visitor is stuck on the challenge page",
        "vantage": "visitor",
        "cloudflare_codes": "challenge",
        "code": "challenge-loop",
        "tone": "warn",
        "headline": "Stuck on Cloudflare's “Just a moment…” check",
        "explanation": "The browser check never passes on your device. That is almost always "
        "JavaScript or cookies being blocked, a wrong clock, or an extension.",
        "fixes": [
            (LOOP, "enable-javascript-and-cookies"),
            (LOOP, "fix-device-clock"),
            (LOOP, "disable-blocking-extensions"),
            (LOOP, "change-network-or-vpn"),
        ],
    },
    {
        "order": 40,
        "name": "Visitor sees error 1009 (country)",
        "vantage": "visitor",
        "cloudflare_codes": "1009",
        "code": "country-blocked-1009",
        "tone": "bad",
        "headline": "Blocked by Cloudflare (error 1009): the site refuses your country or region",
        "explanation": "The block is about where your connection appears to come from. A VPN "
        "set to another country causes it just as often as your real location does.",
        "fixes": [(A1009, "turn-off-vpn-or-change-country"), (A1009, "check-supported-countries")],
    },
    {
        "order": 50,
        "name": "Visitor sees an address ban (1005-1008, 1106)",
        "vantage": "visitor",
        "cloudflare_codes": "1005, 1006, 1007, 1008, 1106",
        "code": "address-banned",
        "tone": "bad",
        "headline": "Blocked by Cloudflare: the site has banned your address or network",
        "explanation": "The site's owner refuses your IP address or your provider's whole "
        "network. A different connection usually gets through.",
        "fixes": [
            (BANNED, "get-a-new-address"),
            (BANNED, "use-another-network"),
            (BANNED, "contact-support-with-ray-id"),
        ],
    },
    {
        "order": 60,
        "name": "Visitor sees another Cloudflare block",
        "vantage": "visitor",
        "cloudflare_codes": "block",
        "code": "blocked-cloudflare",
        "tone": "bad",
        "headline": "Blocked by Cloudflare: the block is about your address, browser or network",
        "explanation": "Cloudflare in front of the service refuses your requests.",
        "fixes": FIXES_1020,
    },
    {
        "order": 100,
        "name": "Status page reports an outage",
        "vantage": "server",
        "target_kind": "status",
        "status_states": "major_outage, partial_outage",
        "code": "down-for-everyone",
        "tone": "bad",
        "headline": "It's down for everyone, not just you",
        "explanation": "The service's own status page reports an outage. Nothing on your side "
        "will fix it; it comes back when they fix it.",
        "fixes": FIXES_DOWN,
    },
    {
        "order": 110,
        "name": "Cloudflare reports the service's servers failing (5xx)",
        "vantage": "server",
        "cloudflare_codes": "origin_error",
        "code": "service-outage",
        "tone": "bad",
        "headline": "The service is failing behind Cloudflare (a 5xx error)",
        "explanation": "Cloudflare answers, but the service's own servers do not. This is an "
        "outage on their side.",
        "fixes": [(OUTAGE, "wait-for-the-service"), (OUTAGE, "check-service-status-page")],
    },
    {
        "order": 120,
        "name": "Our control checks fail",
        "controls_failed": True,
        "code": "checks-impaired",
        "tone": "warn",
        "headline": "Our checks are impaired right now",
        "explanation": "Our server cannot reach even the well-known sites we use as a control, "
        "so its view of the service says nothing. Try again in a few minutes.",
        "fixes": [(DOWN, "check-status-page"), (OUTAGE, "check-service-status-page")],
    },
    {
        "order": 130,
        "name": "Our server cannot reach the web app while controls are fine",
        "vantage": "server",
        "target_kind": "web",
        "outcomes": "down, timeout, error",
        "controls_failed": False,
        "region_scope": "every",
        "code": "down-for-everyone",
        "tone": "bad",
        "headline": "It's down for everyone, not just you",
        "explanation": "Our server reaches other sites fine but gets no answer from the service "
        "(or cannot even look up its address).",
        "fixes": FIXES_DOWN,
    },
    {
        "order": 135,
        "name": "The service turns our server away from some regions only",
        "vantage": "server",
        "target_kind": "web",
        "outcomes": "blocked, challenged",
        "region_scope": "some",
        "code": "checks-blocked-in-region",
        "tone": "warn",
        "headline": "The service turns our checking server away only from some places",
        "explanation": "A Cloudflare rule covers some of the networks or countries we check "
        "from, not all of them. That says nothing about your connection; tell us below what "
        "you see.",
        "fixes": [],
    },
    {
        "order": 140,
        "name": "The service turns our server away",
        "vantage": "server",
        "target_kind": "web",
        "outcomes": "blocked, challenged",
        "code": "checks-blocked",
        "tone": "warn",
        "headline": "The service turned our checking server away, so we can't see it from here",
        "explanation": "Cloudflare blocked or challenged our own check. That says nothing about "
        "your connection; tell us below what you see.",
        "fixes": [],
    },
    {
        "order": 200,
        "name": "The browser reaches nothing",
        "vantage": "browser",
        "controls_failed": True,
        "code": "your-connection-down",
        "tone": "bad",
        "headline": "Your device can't reach the internet right now",
        "explanation": "Your browser could not reach the service or any of the well-known sites "
        "we tried, so the problem is your connection, not the service.",
        "fixes": [
            (A1020, "check-internet-connection"),
            (A1020, "restart-router"),
            (G1020, "check-internet-connection"),
            (G1020, "restart-router"),
        ],
    },
    {
        "order": 210,
        "name": "The browser cannot reach the web app, but reaches the controls",
        "vantage": "browser",
        "target_kind": "web",
        "outcomes": "failed, timeout",
        "controls_failed": False,
        "code": "your-connection",
        "tone": "warn",
        "headline": "Your browser reaches other sites but not the service: likely your "
        "connection, VPN or an extension",
        "explanation": "Your browser reaches other sites, so something between your browser "
        "and the service stops it.",
        "fixes": [
            (A1020, "use-trusted-vpn-or-turn-vpn-off"),
            (A1020, "disable-browser-extensions"),
            (DOWN, "try-another-network"),
            (A1020, "restart-router"),
            (G1020, "use-trusted-vpn-or-turn-vpn-off"),
            (G1020, "disable-browser-extensions"),
            (BANNED, "use-another-network"),
            (G1020, "restart-router"),
        ],
    },
    {
        "order": 300,
        "name": "Visitor sees a blank page",
        "visitor_answer": "blank_page",
        "code": "blank-page",
        "tone": "warn",
        "headline": "A blank page usually comes from the browser",
        "explanation": "Stale site data or an extension that blocks scripts often leaves the "
        "page empty.",
        "fixes": [
            (A1020, "clear-site-cookies"),
            (A1020, "disable-browser-extensions"),
            (A1020, "switch-browser"),
            (G1020, "clear-site-cookies"),
            (G1020, "disable-browser-extensions"),
            (G1020, "switch-browser"),
        ],
    },
    {
        "order": 310,
        "name": "Visitor says nothing loads",
        "visitor_answer": "no_load",
        "code": "nothing-loads",
        "tone": "warn",
        "headline": "Nothing loads for you: the trouble may be between you and the service",
        "explanation": "Your network, router or VPN is the usual suspect when a site "
        "never loads for one person while it works for others.",
        "fixes": [
            (A1020, "check-internet-connection"),
            (A1020, "restart-router"),
            (DOWN, "try-another-network"),
            (A1020, "use-trusted-vpn-or-turn-vpn-off"),
            (G1020, "check-internet-connection"),
            (G1020, "restart-router"),
            (BANNED, "use-another-network"),
            (G1020, "use-trusted-vpn-or-turn-vpn-off"),
        ],
    },
    {
        "order": 1000,
        "name": "Nothing wrong found",
        "code": "all-clear",
        "tone": "ok",
        "headline": "Everything looks fine from here",
        "explanation": "Nothing our checks saw points to a block or an outage. If it still "
        "fails for you, start with these.",
        "fixes": [
            (A1020, "clear-site-cookies"),
            (A1020, "switch-browser"),
            (G1020, "clear-site-cookies"),
            (G1020, "switch-browser"),
        ],
    },
]

_CONDITIONS = (
    "vantage",
    "target_kind",
    "probe",
    "visitor_answer",
    "controls_failed",
    "region_scope",
)
_LISTS = {
    "outcomes": "outcomes",
    "cloudflare_codes": "cloudflare",
    "status_states": "status_states",
}


def starter_rule_data() -> list[RuleData]:
    """The starter rules as the verdict code sees them, fixes named by slug (no database)."""
    rules = []
    for spec in STARTER_RULES:
        fields: dict[str, Any] = {key: spec[key] for key in _CONDITIONS if key in spec}
        for source, target in _LISTS.items():
            fields[target] = split_tokens(spec.get(source, ""))
        rules.append(
            RuleData(
                code=spec["code"],
                headline=spec["headline"],
                explanation=spec.get("explanation", ""),
                tone=spec["tone"],
                fixes=tuple(
                    FixLink(slug, slug, "", service=OWN_GUIDES.get(article, ""))
                    for article, slug in spec["fixes"]
                ),
                claims=STARTER_CLAIMS.get(spec["name"], ()),
                **fields,
            )
        )
    return rules


class Command(BaseCommand):
    help = "Create missing starter verdict rules; update those nobody edited (by name)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts: Counter[str] = Counter()
        missing_fixes: set[str] = set()
        for spec in STARTER_RULES:
            fields = {k: v for k, v in spec.items() if k not in ("name", "fixes")}
            fixes = []
            for article_slug, fix_slug in spec["fixes"]:
                if Fix.objects.filter(article__slug=article_slug, slug=fix_slug).exists():
                    fixes.append([article_slug, fix_slug])
                else:
                    missing_fixes.add(f"{article_slug}/{fix_slug}")
            links = Links(wanted=fixes, read=_linked_fixes, write=_link_fixes)
            name = spec["name"]
            outcome = seed_row(Rule, "rule", name, {"name": name}, fields, links=links)
            if outcome == "kept":
                self.stdout.write(f"Kept your edit of verdict rule {name!r}.")
            counts[outcome] += 1
        summary = ", ".join(f"{counts[what]} {what}" for what in OUTCOMES)
        self.stdout.write(f"Verdict rules: {summary}.")
        if missing_fixes:
            # Rules still work without them; a later setup links them once their
            # guides are imported (see the module's docstring).
            self.stdout.write(
                f"Fixes not found, linked once their guides are imported: {len(missing_fixes)}"
            )


def _linked_fixes(rule: Rule) -> list[list[str]]:
    links = rule.rule_fixes.select_related("fix__article")
    return [[link.fix.article.slug, link.fix.slug] for link in links]


def _link_fixes(rule: Rule, fixes: list[list[str]]) -> None:
    rule.rule_fixes.all().delete()
    for position, (article_slug, fix_slug) in enumerate(fixes):
        fix = Fix.objects.get(article__slug=article_slug, slug=fix_slug)
        RuleFix.objects.create(rule=rule, fix=fix, position=position)
