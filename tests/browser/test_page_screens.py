"""Every page type at a phone and a desktop width, light and dark, in one pass.

Full-page screenshots land in test-artifacts/screens/ (gitignored; CI keeps test-artifacts/)
for a person to look at. The test fails on what a look would catch: a page wider than the
screen, interactive controls drawn over each other, text under 14 px on a phone, and axe
violations of serious or critical impact (axe runs once per page type, at the desktop width
in the light scheme, before anything is switched; the dark scheme's colours are held to AA
numerically by tests/helpcenter/test_design_tokens.py). One browser page is reused
throughout and the colour scheme is switched in place: about 70 s on a quiet 2-core machine.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from diagnostics.models import CheckRun, DailyRollup, ProbeResult, ProbeSample, Target
from helpcenter.models import Article, Category, Service
from tests.browser.fixtures import ARTIFACTS
from tests.browser.test_accessibility import AXE, WATCH_CSP
from tests.conftest import skip_or_fail

SCREENS = ARTIFACTS / "screens"
PHONE, DESKTOP = 375, 1280
SERIOUS = {"serious", "critical"}
PASSWORD = "a-long-screens-password-5"
SERVER_ERROR_PATH = "/__server-error__/"  # answered by the test itself (see below)

# Interactive controls that must never sit under one another. Per line box
# (getClientRects), so a link wrapping onto two lines is not one big rectangle.
FIND_OVERLAPS = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[tabindex]:not([tabindex="-1"])';
  // checkVisibility also says no inside a closed <details> (content-visibility).
  const visible = el => el.checkVisibility({opacityProperty: true, visibilityProperty: true});
  // What a scrolling or clipping box hides of its content is not drawn, so it cannot
  // cover anything: clip each line box to the boxes around it that do not overflow.
  const clip = (el, r) => {
    let [left, top, right, bottom] = [r.left, r.top, r.right, r.bottom];
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const box = node.getBoundingClientRect();
      [left, top] = [Math.max(left, box.left), Math.max(top, box.top)];
      [right, bottom] = [Math.min(right, box.right), Math.min(bottom, box.bottom)];
    }
    return {left, top, right, bottom, width: right - left, height: bottom - top};
  };
  const drawn = r => r.width > 2 && r.height > 2;
  const controls = [...document.querySelectorAll(selector)].filter(visible).map(el => ({
    el, rects: [...el.getClientRects()].map(r => clip(el, r)).filter(drawn)
  })).filter(c => c.rects.length);
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.getAttribute('class') ? '.' + el.getAttribute('class').trim().replace(/ +/g, '.') : '')
    + ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '"';
  const found = [];
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i], b = controls[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      for (const r of a.rects) for (const s of b.rects) {
        const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
        const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
        if (x > 1 && y > 1) { found.push(name(a.el) + ' overlaps ' + name(b.el)); }
      }
    }
  }
  return [...new Set(found)].slice(0, 10);
}"""

# Text a reader sees, smaller than 14 px as drawn (SVG text scaled by its viewBox).
FIND_SMALL_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set(), found = [];
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || seen.has(el) || !walker.currentNode.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('.sr-only, script, style, noscript, title, desc')) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const style = getComputedStyle(el);
    let size = parseFloat(style.fontSize);
    if (el instanceof SVGElement && el.getScreenCTM()) {
      const m = el.getScreenCTM(); size *= Math.hypot(m.a, m.b);
    }
    if (size < 13.95) found.push(el.tagName.toLowerCase() + '.' + (el.getAttribute('class') || '') +
      ' ' + size.toFixed(1) + 'px "' + el.textContent.trim().slice(0, 40) + '"');
  }
  return found.slice(0, 10);
}"""

SCROLLS_SIDEWAYS = (
    "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
)


def _seed() -> dict[str, str]:
    """Starter content, targets and rules, a day of samples, and one finished report."""
    call_command("import_content", verbosity=0)
    call_command("seed_targets", verbosity=0)
    call_command("seed_rules", verbosity=0)
    now = timezone.now()
    targets = list(Target.objects.order_by("order"))
    for target in targets:
        probe = target.probes[-1]
        for minutes in range(0, 24 * 60, 30):
            ProbeSample.objects.create(
                target=target, region="default", probe=probe, outcome="ok",
                summary=f"{probe} answered", latency_ms=80 + minutes % 90,
                probed_at=now - timedelta(minutes=minutes),
            )  # fmt: skip
        for days in range(1, 91):
            bad = days in (3, 17)
            DailyRollup.objects.create(
                target=target, region="default", probe=probe, day=now.date() - timedelta(days=days),
                samples=288, ok_samples=200 if bad else 288, worst_outcome="down" if bad else "ok",
            )  # fmt: skip
    # A run as a press on the 1020 guide makes it: ChatGPT's targets and the shared ones.
    service = Service.objects.get(slug="chatgpt")
    checked = Target.objects.checked_for(service.pk).order_by("order")
    jobs = [(target, probe) for target in checked for probe in target.probes]
    run = CheckRun.objects.create(service=service, regions=["default"], expected_results=len(jobs))
    for target, probe in jobs:
        blocked = target.slug == "chatgpt-web" and probe == "http"
        ProbeResult.store(
            run.pk, target.pk, "default",
            {"probe": probe, "outcome": "blocked" if blocked else "ok",
             "summary": "Cloudflare answered 403, error 1020" if blocked else f"{probe} answered",
             "evidence": {"status": 403, "cf_error": 1020} if blocked else {}},
        )  # fmt: skip
    assert run.close_if_complete()
    article = Article.objects.get(slug="chatgpt-access-denied-1020")
    User.objects.create_superuser("screens", "screens@example.com", PASSWORD)
    return {
        "report": run.get_absolute_url(),
        "category": Category.objects.order_by("order").first().get_absolute_url(),  # type: ignore[union-attr]
        "status": f"/status/{targets[0].slug}/",
        "editor": f"/admin/helpcenter/article/{article.pk}/change/",
    }


def _pages(urls: dict[str, str]) -> list[tuple[str, str, int]]:
    """(name, path, status) in order; from the styleguide on they need a staff login."""
    return [
        ("home", "/", 200),
        ("category", urls["category"], 200),
        ("article", "/articles/chatgpt-access-denied-1020/", 200),
        ("fix", "/articles/chatgpt-access-denied-1020/fix/clear-site-cookies/", 200),
        ("search", "/search/?q=cookies", 200),
        ("search-none", "/search/?q=zqxwvy", 200),
        ("not-found", "/articles/no-such-guide/", 404),
        ("server-error", SERVER_ERROR_PATH, 500),
        ("checks", "/checks/", 200),
        ("report", urls["report"], 200),
        ("status", "/status/", 200),
        ("status-detail", urls["status"], 200),
        ("service", "/services/chatgpt/", 200),
        ("privacy", "/privacy/", 200),
        ("styleguide", "/styleguide/", 200),
        ("notice-counts", "/staff/notices/", 200),
        ("editor", urls["editor"], 200),
    ]


# Django's own filter_horizontal widget (admin/js/SelectFilter2.js) puts an aria-label on a
# plain span; it is the admin's markup, not ours, and reads the same label aloud twice at worst.
ADMIN_OWN = ("aria-prohibited-attr", "search-label-icon")


def _axe(page: Any, source: str) -> list[str]:
    page.evaluate(source + "\n;true")
    found = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['nodes']}"
        for v in found
        if v["impact"] in SERIOUS
        and not (v["id"] == ADMIN_OWN[0] and all(ADMIN_OWN[1] in n for n in v["nodes"]))
    ]


SHOT_SECONDS: list[float] = []


def _look(page: Any, name: str, width: int, problems: list[str]) -> None:
    """Check the layout at this width, then photograph it light and dark."""
    page.set_viewport_size({"width": width, "height": 900})
    sideways = page.evaluate(SCROLLS_SIDEWAYS)
    if sideways > 0:
        problems.append(f"{name} @{width}: scrolls sideways by {sideways}px")
    for overlap in page.evaluate(FIND_OVERLAPS):
        problems.append(f"{name} @{width}: {overlap}")
    # The Django admin keeps its own (13 px) type scale; the rule is for our pages.
    if width == PHONE and name != "editor":
        for small in page.evaluate(FIND_SMALL_TEXT):
            problems.append(f"{name} @{width}: text under 14px: {small}")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        shot = time.monotonic()
        page.screenshot(path=str(SCREENS / f"{name}-{width}-{scheme}.png"), full_page=True)
        SHOT_SECONDS.append(time.monotonic() - shot)
    page.emulate_media(color_scheme="light")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_type_looks_right_at_phone_and_desktop_widths_light_and_dark(
    start_web: Any, browser: Any
) -> None:
    if not AXE.exists():
        skip_or_fail("axe-core is not installed: run `npm install --no-save axe-core`")
    urls = _seed()
    web = start_web()
    # The 500 page as the site renders it (its view needs no request), served through the
    # browser at a path of its own: no view in the product fails on purpose.
    from helpcenter.views import server_error

    server_error_html = server_error(None).content  # type: ignore[arg-type]
    SCREENS.mkdir(parents=True, exist_ok=True)
    for old in SCREENS.glob("*.png"):  # only this run's pictures count below
        old.unlink()
    axe_source = AXE.read_text()

    context = browser.new_context(viewport={"width": PHONE, "height": 900}, color_scheme="light")
    context.add_init_script(WATCH_CSP)
    context.route(
        web.url + SERVER_ERROR_PATH,
        lambda route: route.fulfill(status=500, content_type="text/html", body=server_error_html),
    )
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console", lambda msg: msg.type == "error" and console.append(f"{page.url}: {msg.text}")
    )
    problems: list[str] = []
    timings: list[str] = []
    for name, path, status in _pages(urls):
        started = time.monotonic()
        if name == "styleguide":  # staff from here on
            page.goto(f"{web.url}/admin/login/")
            page.fill("#id_username", "screens")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{web.url}/admin/")
        page.set_viewport_size({"width": DESKTOP, "height": 900})
        response = page.goto(web.url + path)
        assert response is not None and response.status == status, (name, path, response)
        page.wait_for_load_state("networkidle")  # htmx fragments (panel, live status) are in
        # axe first, before any colour-scheme switch: a page (the admin's) with colour
        # transitions would otherwise be measured halfway between two schemes.
        axed = time.monotonic()
        problems.extend(f"{name}: axe {v}" for v in _axe(page, axe_source))
        axed = time.monotonic() - axed
        _look(page, name, DESKTOP, problems)
        _look(page, name, PHONE, problems)
        csp = page.evaluate("window.__cspViolations")
        if csp:
            problems.append(f"{name}: CSP violations {csp}")
        timings.append(f"{name} {time.monotonic() - started:.1f}s (axe {axed:.1f}s)")
    context.close()
    print("page times:", ", ".join(timings), f"; screenshots {sum(SHOT_SECONDS):.1f}s")
    # Chromium logs a 404 or 500 answer as a failed resource; anything else is a bug.
    unexpected = [line for line in console if "404" not in line and "500" not in line]
    assert problems + unexpected == [], "\n".join(problems + unexpected)
    assert len(list(SCREENS.glob("*.png"))) == len(_pages(urls)) * 4
