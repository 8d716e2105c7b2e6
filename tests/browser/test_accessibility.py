"""Every kind of public page passes axe-core without serious or critical violations.

axe-core comes from npm into node_modules (gitignored):
``npm install --no-save axe-core``. The pages are the starter content, imported
with import_content and served by gunicorn as in production. Screenshots at a
phone width and a desktop width land in test-artifacts/ for a human to look at.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

from tests.browser.fixtures import screenshot
from tests.conftest import ROOT, skip_or_fail

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (375, 1280)
SERIOUS = {"serious", "critical"}

# Collected before any page script runs; init scripts are not subject to the CSP.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def _pages() -> list[tuple[str, str, int]]:
    pages = [
        ("home", "/", 200),
        ("article", "/articles/chatgpt-access-denied-1020/", 200),
        ("fix", "/articles/chatgpt-access-denied-1020/fix/clear-site-cookies/", 200),
        ("not-found", "/articles/no-such-guide/", 404),
    ]
    try:
        resolve("/search/")
        pages.insert(3, ("search", "/search/?q=cookies", 200))
    except Resolver404:
        pass  # the search page is built separately; test it once it exists
    return pages


def _axe(page: Any, source: str) -> list[dict[str, Any]]:
    # Evaluated through the DevTools protocol, so the page's CSP (no inline
    # script, no eval) does not stop it, and the page itself stays unchanged.
    page.evaluate(source + "\n;true")
    result = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return list(result)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_public_pages_have_no_serious_accessibility_violations(
    start_web: Any, browser: Any
) -> None:
    if not AXE.exists():
        skip_or_fail(f"axe-core is not installed: run `npm install --no-save axe-core` in {ROOT}")
    call_command("import_content", verbosity=0)
    web = start_web()
    source = AXE.read_text()
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg, seen=errors: msg.type == "error" and seen.append(msg.text))
        for name, path, status in _pages():
            response = page.goto(web.url + path)
            assert response is not None and response.status == status, (path, response)
            page.wait_for_load_state("networkidle")
            found = _axe(page, source)
            for violation in found:
                if violation["impact"] in SERIOUS:
                    problems.append(f"{width}px {path}: {violation}")
            violations = page.evaluate("window.__cspViolations")
            assert violations == [], f"CSP violations on {path}: {violations}"
            screenshot(page, f"a11y-{name}-{width}")
        # A 404 is logged as a failed resource by Chromium; anything else is a bug.
        unexpected = [e for e in errors if "404" not in e]
        assert unexpected == [], unexpected
        context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_keyboard_users_can_skip_to_content_and_copy_a_fix_link(
    start_web: Any, browser: Any
) -> None:
    call_command("import_content", verbosity=0)
    web = start_web()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web.url)
    page = context.new_page()
    page.goto(web.url + "/articles/chatgpt-access-denied-1020/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"  # the focus ring shows

    button = page.get_by_role("button", name="Copy link to fix 2")
    button.click()
    page.locator("#announcer", has_text="Link copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == web.url + "/articles/chatgpt-access-denied-1020/#fix-clear-site-cookies"
    context.close()
