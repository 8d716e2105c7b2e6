"""Each `make demo` scenario, as a visitor sees it: the demo's own stand-ins and target
settings, the starter rules, a real worker and Chromium pressing "Run checks".

Per scenario: the verdict and its headline, the message for the service's support
(only what the visitor gave, else nothing but the labelled run time), and the
evidence rows, of which only the scenario's own targets may show a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from diagnostics.management.commands.demo import SCENARIOS, point_targets
from diagnostics.standins.refused import RefusedPort
from tests.browser.fixtures import screenshot
from tests.browser.test_panel import load_content_and_rules

# A guide about no service in particular (the starter content's 1015 guide).
GENERAL_GUIDE = "cloudflare-error-1015-rate-limited"

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SERVER_TARGETS = frozenset(
    {
        "chatgpt-web",
        "openai-api",
        "openai-status",
        "cloudflare-status",
        "control-wikipedia",
        "control-example",
    }
)
SERVICE = frozenset({"chatgpt-web", "openai-api"})
# The second service's run: its own targets and the shared ones.
DISCORD_TARGETS = frozenset(
    {
        "discord-web",
        "discord-api",
        "discord-status",
        "cloudflare-status",
        "control-wikipedia",
        "control-example",
    }
)
PASTED_RAY = "8f0c1a2b3c4d5e6f"
PASTED_1020 = (
    "Access denied\nError code 1020\nYou do not have access to chatgpt.com.\n"
    f"Ray ID: {PASTED_RAY}\nTimestamp: 2026-11-30 10:12:03 UTC\n"
    "Your IP address: 203.0.113.9\nCloudflare Location: Seoul\n"
)


@dataclass(frozen=True)
class Expect:
    code: str
    headline: str
    failing: frozenset[str]  # the server-side targets whose rows may (and must) show a failure
    answer: str = ""  # the visitor's answer, ticked before running
    pasted: str = ""
    browser_reached: bool = True  # the visitor's browser reaches the web app
    says: tuple[str, ...] = ()  # sentences the verdict must carry
    support: tuple[str, ...] = ()  # lines the support message must carry (none: no message)


EXPECTED = {
    "outage": Expect(
        "down-for-everyone",
        "It's down for everyone, not just you",
        SERVICE | {"openai-status"},
    ),
    "origin": Expect(
        "service-outage",
        "The service is failing behind Cloudflare (a 5xx error)",
        SERVICE,
        says=("Your browser got an answer from it just now, but behind Cloudflare it fails",),
    ),
    "blocked": Expect(
        "blocked-1020",
        "Blocked by Cloudflare (error 1020)",
        SERVICE,
        answer="The “Access denied, error code 1020” page",
        pasted=PASTED_1020,
        says=("Our server is blocked as well",),
        support=(
            "Error code: 1020",
            f"Ray ID: {PASTED_RAY}",
            "Time on your error page: 2026-11-30 10:12:03 UTC",
        ),
    ),
    "server-blocked": Expect(
        "checks-blocked",
        "The service turned our checking server away",
        SERVICE,
        says=("Your browser got an answer from it just now while Cloudflare turned our server",),
    ),
    "challenge": Expect(
        "checks-blocked",
        "The service turned our checking server away",
        SERVICE,
    ),
    "impaired": Expect(
        "checks-impaired",
        "Our checks are impaired right now",
        SERVER_TARGETS,
        says=("our server reaches nothing at the moment",),
    ),
    "fine": Expect("all-clear", "Everything looks fine from here", frozenset()),
}


def test_every_demo_scenario_has_a_case_here() -> None:
    assert set(EXPECTED) == set(SCENARIOS)


@pytest.fixture
def refused() -> Iterator[RefusedPort]:
    port = RefusedPort().start()
    yield port
    port.stop()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_panel_tells_each_demo_scenario_as_it_is(
    name: str,
    start_web: Any,
    celery_worker: Any,
    edge: Any,
    status_server: Any,
    refused: RefusedPort,
    page: Any,
) -> None:
    expect = EXPECTED[name]
    load_content_and_rules()
    call_command("seed_targets", verbosity=0)
    point_targets(SCENARIOS[name], edge, status_server, refused)
    web = start_web()

    # What `make demo` prints for the plain press is what a plain press shows.
    page.goto(f"{web.url}/checks/?service=chatgpt")
    page.get_by_role("button", name="Run checks").click()
    page.locator("[data-verdict]").wait_for(timeout=45_000)
    plain = page.locator(".verdict-headline").inner_text().strip()
    assert plain == SCENARIOS[name].headline
    if not expect.answer:
        assert plain.startswith(expect.headline)
    else:
        # ...and the hint that asks for a tick names the headline the tick leads to.
        assert expect.headline in SCENARIOS[name].also

    page.goto(f"{web.url}/checks/?service=chatgpt")
    if expect.answer:
        page.get_by_label(expect.answer).check()
    if expect.pasted:
        page.get_by_text("Paste the error text").click()
        page.locator("textarea[name=pasted]").fill(expect.pasted)
    page.get_by_role("button", name="Run checks").click()
    verdict = page.locator("[data-verdict]")
    verdict.wait_for(timeout=45_000)
    screenshot(page, f"demo-{name}")

    assert verdict.get_attribute("data-verdict") == expect.code
    assert expect.headline in page.locator(".verdict-headline").inner_text()
    explanation = verdict.inner_text()
    for sentence in expect.says:
        assert sentence in explanation

    support = page.locator(".support-text")
    if expect.support:
        text = support.input_value()
        for line in expect.support:
            assert line in text
        # Nothing from our own server's probes, and nothing the visitor's page said
        # about them beyond code, Ray ID, data centre and time.
        assert "203.0.113" not in text
        assert text.count("Ray ID") == 1
    else:
        assert support.count() == 0

    rows = page.locator(".results:not(.browser-results) > li[data-target]")
    shown = {row.get_attribute("data-target"): row for row in rows.all()}
    assert set(shown) == SERVER_TARGETS
    failing = {
        slug
        for slug, row in shown.items()
        if re.search(
            r"\boutcome-(down|error|timeout|blocked|challenged)\b", row.get_attribute("class") or ""
        )
    }
    assert failing == expect.failing
    # When our server reaches nothing, no row may call a target down: it was not reached.
    labels = {slug: row.locator("summary .outcome").inner_text() for slug, row in shown.items()}
    if expect.code == "checks-impaired":
        assert set(labels.values()) == {"Not reached from our server"}, labels
    else:
        assert "Not reached from our server" not in labels.values(), labels

    browser = page.locator(".browser-results > li[data-target=chatgpt-web]")
    assert ("outcome-ok" in (browser.get_attribute("class") or "")) is expect.browser_reached
    # The browser's own fetch of a failing stand-in is logged by Chromium; nothing else may be.
    status_logged = "Failed to load resource: the server responded with a status of"
    expected_noise = SCENARIOS[name].browser_path != "/ok"
    assert [e for e in page.console_errors if not (expected_noise and status_logged in e)] == []


def test_without_javascript_the_report_asks_one_question_and_shares_the_full_link(
    start_web: Any,
    celery_worker: Any,
    edge: Any,
    status_server: Any,
    refused: RefusedPort,
    browser: Any,
) -> None:
    load_content_and_rules()
    call_command("seed_targets", verbosity=0)
    point_targets(SCENARIOS["fine"], edge, status_server, refused)
    web = start_web()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 812})
    page = context.new_page()
    try:
        page.goto(f"{web.url}/checks/?service=chatgpt")
        page.get_by_role("button", name="Run checks").click()
        # The report refreshes itself until the verdict is in.
        page.locator("[data-verdict=all-clear]").wait_for(timeout=45_000)
        share = page.locator(".share a")
        assert share.inner_text() == f"{settings.SITE_URL}{page.url.split(web.url)[1]}"
        assert page.locator("form.fix-worked").count() == 1
        page.locator("form.fix-worked select").select_option(label="Try another browser")
        page.get_by_role("button", name="Yes, it worked").click()
        page.get_by_text("you told us “Try another browser” fixed it").wait_for()
        screenshot(page, "demo-fine-no-js")
    finally:
        context.close()


def test_the_other_service_stays_healthy_and_a_general_guide_checks_the_service_in_its_link(
    start_web: Any,
    celery_worker: Any,
    edge: Any,
    status_server: Any,
    refused: RefusedPort,
    page: Any,
) -> None:
    """A general guide shared as ?service=discord: its panel starts on Discord, and a press
    checks Discord's targets only, which answer while the demo blocks ChatGPT."""
    load_content_and_rules()
    call_command("seed_targets", verbosity=0)
    assert point_targets(SCENARIOS["blocked"], edge, status_server, refused) == "ChatGPT"
    web = start_web()

    page.goto(f"{web.url}/articles/{GENERAL_GUIDE}/?service=discord")
    picker = page.get_by_label("Which service are you trying to reach?")
    picker.wait_for(timeout=15_000)
    assert picker.input_value() == "discord"
    page.get_by_role("button", name="Run checks").click()
    verdict = page.locator("[data-verdict]")
    verdict.wait_for(timeout=45_000)
    screenshot(page, "general-guide-discord")

    assert verdict.get_attribute("data-verdict") == "all-clear"
    assert "These checks are about Discord." in page.locator(".run-status").inner_text()
    rows = page.locator(".results:not(.browser-results) > li[data-target]")
    shown = {row.get_attribute("data-target"): row.get_attribute("class") for row in rows.all()}
    assert set(shown) == DISCORD_TARGETS
    assert all("outcome-ok" in (classes or "") for classes in shown.values()), shown
    # The fixes are the general guides', each leading on with the run's service.
    links = page.locator(".ranked-fixes a")
    assert links.count() > 0
    for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert "chatgpt" not in href and href.endswith("?service=discord"), href
