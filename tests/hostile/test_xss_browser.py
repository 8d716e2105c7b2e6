"""XSS in a real browser: every vector, in every place text is rendered, runs nothing.

The unit tests (tests/helpcenter/test_markdown.py) check the sanitiser's output
as text; here Chromium renders the pages gunicorn serves, under the real CSP, and
we watch for what would prove a script ran: a dialog (the vectors call alert),
a console marker (a variant set logs XSS-MARKER instead), or a CSP report that a
script was blocked (which would mean the sanitiser let it through). All vectors
for one place go on one page, so each place costs one page load.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from diagnostics.models import CheckRun, CrowdReport, ProbeResult, ProbeSample, Target
from diagnostics.probes.statuspages import parse_statuspage_v2
from helpcenter.models import Article, Category
from helpcenter.text import without_control_chars
from tests.conftest import wait_for
from tests.helpcenter.xss_vectors import HOSTILE_LINKS, XSS_VECTORS

MARKER = "XSS-MARKER"
# The same vectors, logging a marker instead of opening a dialog: a console.log that
# runs is caught even where a dialog might be suppressed.
MARKED = [v.replace("alert(1)", f"console.log('{MARKER}')") for v in XSS_VECTORS]
VECTORS = XSS_VECTORS + [m for m in MARKED if m not in XSS_VECTORS]

# Registered before any page script (Playwright injects it outside the page's CSP):
# turns CSP violations into console lines we can read.
WATCH_CSP = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.log('CSP-VIOLATION ' + e.effectiveDirective + ' ' + e.blockedURI);
});
"""


@dataclass
class Watch:
    dialogs: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def assert_clean(self, place: str) -> None:
        assert self.dialogs == [], f"{place}: a dialog opened: {self.dialogs[:3]}"
        assert self.markers == [], f"{place}: a marker was logged: {self.markers[:3]}"
        scripts = [v for v in self.violations if "script" in v]
        assert scripts == [], f"{place}: CSP had to block a script: {scripts[:5]}"


@pytest.fixture
def watched(page: Any) -> Iterator[tuple[Any, Watch]]:
    watch = Watch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: Any) -> None:
        text = message.text
        if MARKER in text:
            watch.markers.append(text)
        if text.startswith("CSP-VIOLATION"):
            watch.violations.append(text)

    def keep_local(route: Any) -> None:
        # Vectors name outside hosts (evil.example); tests never leave 127.0.0.1.
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.add_init_script(WATCH_CSP)
    page.route("**/*", keep_local)
    # Fake timers that still run in real time, until _settle jumps them ahead.
    page.clock.install()
    yield page, watch


def _published(**fields: Any) -> Article:
    defaults: dict[str, Any] = {"status": "published", "published_at": timezone.now()}
    return Article.objects.create(**{**defaults, **fields})


# How far _settle runs the page's clock: a script that waits longer than this to
# act would be missed (and would also be missed by most visitors).
LATER_MS = 60_000
# The longest the press on the checks form may take to be answered before the test fails.
PRESS_ANSWER_MS = 120_000

# True once the page has rendered a frame after document time t0 (null before the first).
FRAME_AFTER = "(t0) => document.timeline.currentTime !== null && document.timeline.currentTime > t0"


def _settle(page: Any) -> None:
    """Let everything a vector could set off happen, without waiting on the clock.

    Error and load events have fired by the load event. Autofocus, CSS animation and
    SVG animation events fire when the page renders: wait for two real frames. Then
    jump the page's timers a minute ahead, which runs anything set with setTimeout,
    setInterval or requestAnimationFrame in that minute, right now.
    """
    for _ in range(2):
        now = page.evaluate("document.timeline.currentTime ?? -1")
        page.wait_for_function(FRAME_AFTER, arg=now, polling="raf")
    page.clock.run_for(LATER_MS)
    page.evaluate("0")  # a round trip: the console and dialog events raised so far are in


def _visit(page: Any, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status < 500, url
    _settle(page)


def _queries(limit: int = 200) -> list[str]:
    """The vectors packed into as few search queries as the query length limit allows."""
    queries: list[str] = []
    for vector in VECTORS:
        vector = vector[:limit]
        if queries and len(queries[-1]) + 1 + len(vector) <= limit:
            queries[-1] += " " + vector
        else:
            queries.append(vector)
    return queries


# Scripts that act only once the page renders or after nearly a minute: what _settle
# must let happen for a clean page to mean anything.
LATE_PAGE = f"""
<input autofocus onfocus="console.log('{MARKER} on focus')">
<script>
  setTimeout(() => console.log('{MARKER} after 50 s'), 50000);
  setTimeout(() => alert('after 59 s'), 59000);
</script>
"""


@pytest.mark.browser
def test_settling_lets_late_scripts_act_without_waiting_for_them(
    watched: tuple[Any, Watch],
) -> None:
    page, watch = watched
    page.set_content(LATE_PAGE)  # a page of our own, without the site's CSP: its scripts run
    assert watch.dialogs == [] and f"{MARKER} after 50 s" not in watch.markers
    _settle(page)
    assert sorted(watch.markers) == [f"{MARKER} after 50 s", f"{MARKER} on focus"]
    assert watch.dialogs == ["after 59 s"]


@pytest.fixture
def hostile_site(db: None) -> dict[str, str]:
    """The knowledge base and a report, with a vector in every field a visitor sees."""
    body = "\n\n".join(f"Vector {i}: {v}" for i, v in enumerate(VECTORS))
    article = _published(
        title="Firewall vectors", slug="vectors", summary="firewall " + VECTORS[0][:200],
        body="## Vectors {#vectors}\n\n" + body,
    )  # fmt: skip
    category = Category.objects.create(title="Hostile titles", slug="hostile")
    for i, vector in enumerate(VECTORS):
        article.faq.create(question=vector[:300], answer=vector, order=i)
        article.fixes.create(title=vector[:200], slug=f"fix-{i}", summary=vector[:300],
                             body=vector, order=i)  # fmt: skip
        _published(title=vector[:200], slug=f"title-{i}", summary=vector[:300],
                   body="firewall", category=category)  # fmt: skip
    run = CheckRun.objects.create(
        regions=["default"], expected_results=len(VECTORS), state=CheckRun.State.COMPLETE,
        finished_at=timezone.now(),
    )  # fmt: skip
    for i, vector in enumerate(VECTORS):
        target = Target.objects.create(name=vector[:120], slug=f"t-{i}", url="https://x.test/",
                                       probes=["http"], order=i)  # fmt: skip
        ProbeResult.objects.create(run=run, target=target, region="default", probe="http",
                                   outcome="error", summary=vector[:300])  # fmt: skip
    return {"article": "/articles/vectors/", "fix": "/articles/vectors/fix/fix-0/",
            "category": "/categories/hostile/", "report": run.get_absolute_url()}  # fmt: skip


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_vector_runs_anywhere_text_is_rendered(
    start_web: Any, watched: tuple[Any, Watch], hostile_site: dict[str, str]
) -> None:
    page, watch = watched
    web = start_web()
    places = {
        "article body, FAQ and fix titles": hostile_site["article"],
        "fix page": hostile_site["fix"],
        "article titles (home)": "/",
        "article titles (category)": hostile_site["category"],
        "report: target names and summaries": hostile_site["report"],
        "search results and snippets": "/search/?q=firewall",
    }
    for place, path in places.items():
        _visit(page, web.url + path)
        watch.assert_clean(place)
    assert page.locator("body").inner_text()  # the pages rendered, they are not blank

    # Pasted error text on the checks form, then the report it leads to.
    _visit(page, f"{web.url}/checks/")
    pasted = page.locator("textarea").first
    # Set, not typed: the field sits in a closed disclosure, and typing 19 KB is slow.
    pasted.evaluate("(field, text) => { field.value = text; }", "\n".join(VECTORS)[:19_000])
    before = CheckRun.objects.count()

    def the_press(response: Any) -> bool:
        return response.request.method == "POST" and urlsplit(response.url).path == "/checks/"

    # Wait for the press's own answer (state, not a clock): under a loaded CI machine the
    # web process can take longer than a poll's deadline to store and answer it.
    with page.expect_response(the_press, timeout=PRESS_ANSWER_MS) as pressed:
        page.locator("form.run-form button[type=submit]").first.click()
    answer = pressed.value
    assert answer.status == 200, f"the press was answered {answer.status}: {answer.text()[:500]}"
    # htmx swaps the report into the panel; then open the report page itself.
    wait_for(lambda: CheckRun.objects.count() == before + 1)
    _visit(page, web.url + CheckRun.objects.order_by("-created_at")[0].get_absolute_url())
    watch.assert_clean("pasted error text and its report")
    print(f"{len(VECTORS)} vectors; outside requests blocked: {len(watch.outside)}; "
          f"other CSP reports: {watch.violations[:5]}")  # fmt: skip


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_vector_runs_from_the_search_box(start_web: Any, watched: tuple[Any, Watch]) -> None:
    page, watch = watched
    # Each search comes from its own address, so the per-client search limit is not hit.
    web = start_web(CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR", TRUSTED_PROXY_COUNT="1")
    queries = _queries()
    for i, query in enumerate(queries):
        page.set_extra_http_headers({"X-Forwarded-For": f"198.51.100.{i % 250 + 1}"})
        _visit(page, f"{web.url}/search/?q={quote(query)}")
        # A text field drops line breaks from its value and HTML turns NUL into U+FFFD;
        # everything else must come back as the text it was.
        shown = page.locator("input[name=q]").first.input_value()
        expected = query.replace("\r", "").replace("\n", "").replace("\x00", "\ufffd")
        assert shown == expected.strip()
    watch.assert_clean(f"search box ({len(queries)} queries holding every vector)")


# --- Status pages, live status and crowd reports -----------------------------------------------
# Text there comes from target rows (an admin's, or a stolen admin login's), from probe
# summaries and from status-page answers (anyone running the status page, or sitting between
# us and it). Crowd reports carry no visitor text: a report is a click on a target, so what
# they render is the target's name, in the heading, the surge banner and the chart's SVG.

INCIDENTS_PER_PAGE = 20  # what the status probe keeps from one answer (statuspages._MAX_ITEMS)

# Run after each page: every link is plain http(s), and no element carries an event handler.
# Escaped text cannot create either, so anything found here means markup got through.
DOM_AUDIT = """() => {
  const links = Array.from(document.querySelectorAll('a[href], area[href]'),
                           (a) => [a.protocol, a.getAttribute('href')]);
  const handlers = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) handlers.push(el.tagName + ' ' + attr.name);
    }
  }
  const hrefs = Array.from(document.querySelectorAll('[src], [action], [formaction], [srcdoc]'),
                           (el) => el.outerHTML.slice(0, 120));
  return {links, handlers, hrefs};
}"""


OPEN_ALL = """(all) => Promise.all(all.filter((d) => !d.open).map((d) => new Promise((done) => {
  d.addEventListener('toggle', done, {once: true});
  d.open = true;
})))"""


def _audit_dom(page: Any, place: str) -> int:
    """Assert no handler attributes and no non-http(s) link; return how many links there are."""
    found = page.evaluate(DOM_AUDIT)
    assert found["handlers"] == [], f"{place}: event handler attributes: {found['handlers'][:5]}"
    odd = [href for protocol, href in found["links"] if protocol not in ("http:", "https:")]
    assert odd == [], f"{place}: links that are not http(s): {odd[:5]}"
    # Only the site's own scripts and forms carry src/action: nothing from the data.
    foreign = [
        h
        for h in found["hrefs"]
        if "ok.example" in h or "evil.example" in h or "alert" in h or "javascript" in h.lower()
    ]
    assert foreign == [], f"{place}: data ended up in src/action attributes: {foreign[:5]}"
    return len(found["links"])


def _statuspage_answer(names: list[str], links: list[str]) -> dict[str, Any]:
    """What the status probe stores for a hostile Statuspage summary: parsed by the real parser."""
    document = {
        "page": {"name": "x"},
        "status": {"indicator": "major", "description": names[0]},
        "components": [{"name": name, "status": "major_outage"} for name in names],
        "incidents": [
            {"name": name, "status": "investigating", "impact": name, "shortlink": link}
            for name, link in zip(names, links, strict=True)
        ],
    }
    report = parse_statuspage_v2(document)
    return {
        "provider": "statuspage",
        "state": report.state,
        "description": report.description,
        "components": report.components[:INCIDENTS_PER_PAGE],
        "incidents": report.incidents,
    }


def _raw_answer(names: list[str], links: list[str]) -> dict[str, Any]:
    """Evidence as a future or buggy parser might store it: nothing filtered on the way in."""
    return {
        "state": names[0],  # shown as "The status page itself says: …"
        "incidents": [
            {"name": name, "status": name[:40], "impact": name[:40], "url": link}
            for name, link in zip(names, links, strict=True)
        ],
    }


@pytest.fixture
def hostile_status(db: None) -> dict[str, Any]:
    """Status targets whose answers carry every vector, and web apps named after them."""
    now = timezone.now()
    chunks = [
        VECTORS[i : i + INCIDENTS_PER_PAGE] for i in range(0, len(VECTORS), INCIDENTS_PER_PAGE)
    ]
    status_slugs = []
    safe_links = 0
    samples = []
    for c, names in enumerate(chunks):
        links = [HOSTILE_LINKS[(c + i) % len(HOSTILE_LINKS)] for i in range(len(names))]
        safe_links += sum(link.startswith(("http://", "https://")) for link in links)
        target = Target.objects.create(
            name=names[0][:120],
            slug=f"s-{c}",
            # The admin's URL field refuses control characters; the rest of the vector stays.
            url=f"https://status.ok.example/?{without_control_chars(names[-1])}",
            kind=Target.Kind.STATUS_PAGE,
            probes=["status", "http"],
            provider="statuspage",
            order=c,
        )
        status_slugs.append(target.slug)
        # Every other page through the real parser (what the probe stores today), the rest
        # raw (what the templates must survive anyway).
        evidence = (_statuspage_answer if c % 2 == 0 else _raw_answer)(names, links)
        for minutes, probe in enumerate(("status", "http")):
            samples.append(
                ProbeSample(
                    target=target,
                    region="default",
                    probe=probe,
                    outcome="down",
                    summary=names[minutes % len(names)][:300],
                    latency_ms=120.0 + minutes,
                    evidence=evidence if probe == "status" else {},
                    probed_at=now - timedelta(minutes=minutes + 1),
                )
            )
    web = []
    for i, vector in enumerate(VECTORS):
        web.append(
            Target(
                name=vector[:120],
                slug=f"w-{i}",
                url="https://ok.example/",
                kind=Target.Kind.WEB_APP,
                probes=["http"],
                order=100 + i,
            )
        )
    # Row by row through save(): it drops control characters (PostgreSQL refuses NUL), as
    # every write the app itself makes does.
    for target in web:
        target.save()
    web = list(Target.objects.filter(kind=Target.Kind.WEB_APP).order_by("order"))
    for i, target in enumerate(web):
        samples.append(
            ProbeSample(
                target=target,
                region="default",
                probe="http",
                outcome="error",
                summary=VECTORS[(i + 1) % len(VECTORS)][:300],
                latency_ms=80.0,
                probed_at=now - timedelta(minutes=2),
            )
        )
    for sample in samples:
        sample.save()
    # Enough recent reports on every web app for its surge banner (which names it) to show.
    reports = settings.CROWD_MIN_REPORTS + 1
    CrowdReport.objects.bulk_create(
        CrowdReport(target=target, visitor_hash=f"v{n}", created_at=now - timedelta(minutes=n + 1))
        for target in web
        for n in range(reports)
    )
    # A visitor's report on a status target: its result rows carry the incidents and links too.
    run = CheckRun.objects.create(
        regions=["default"],
        expected_results=len(chunks),
        state=CheckRun.State.COMPLETE,
        finished_at=now,
    )
    for sample in samples[: 2 * len(chunks) : 2]:
        ProbeResult.objects.create(
            run=run,
            target=sample.target,
            region="default",
            probe="status",
            outcome="down",
            summary=sample.summary,
            evidence=sample.evidence,
        )
    # A fix whose page carries the live-status slot (settings.LIVE_STATUS_FIX_SLUGS).
    article = _published(title="Status", slug="status-guide", body="status")
    article.fixes.create(
        title="Check the status",
        slug=settings.LIVE_STATUS_FIX_SLUGS[0],
        body="Check the status.",
        order=0,
    )
    return {
        "status_slugs": status_slugs,
        "safe_links": safe_links,
        "web": len(web),
        "report": run.get_absolute_url(),
        "fix": f"/articles/status-guide/fix/{settings.LIVE_STATUS_FIX_SLUGS[0]}/",
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_vector_runs_on_the_status_pages_live_status_or_crowd_reports(
    start_web: Any, watched: tuple[Any, Watch], hostile_status: dict[str, Any]
) -> None:
    page, watch = watched
    web = start_web()
    vectors_seen: dict[str, int] = {}

    def check(place: str) -> int:
        watch.assert_clean(place)
        return _audit_dom(page, place)

    # Every status target, its incidents, links and the state its status page claims.
    _visit(page, web.url + "/status/")
    check("status overview")
    assert (
        page.locator(".status-target").count()
        == len(hostile_status["status_slugs"]) + hostile_status["web"]
    )
    incident_links = page.locator(".status-incidents a")
    # Only the http(s) incident links became links; the rest are plain text.
    assert incident_links.count() == hostile_status["safe_links"]
    vectors_seen["status overview"] = page.locator(".status-incidents li").count()

    # Each status target's own page: its 20 incidents, its answers and its charts.
    detail_incidents = 0
    for slug in hostile_status["status_slugs"]:
        _visit(page, f"{web.url}/status/{slug}/")
        check(f"status page of {slug}")
        assert page.locator(".status-chart svg").count() == 2  # uptime and latency
        detail_incidents += page.locator(".status-incidents li").count()
    vectors_seen["status target pages (incidents)"] = detail_incidents

    # The live status: the full page, then the fragment htmx swaps into a fix page.
    _visit(page, f"{web.url}/checks/live/")
    check("live status page")
    vectors_seen["live status"] = page.locator(".live-row").count()
    _visit(page, web.url + hostile_status["fix"])
    page.locator(".live-status .live-list").wait_for(state="attached", timeout=15_000)
    _settle(page)
    check("live status fragment on a fix page")

    # Crowd reports: the full page, then the fragment htmx loads into the checks page,
    # then one "I have this problem too" swapped in place.
    _visit(page, f"{web.url}/checks/crowd/")
    check("crowd reports page")
    vectors_seen["crowd reports"] = page.locator(".crowd-target h3").count()
    assert page.locator(".crowd-banner").count() == hostile_status["web"]
    _visit(page, f"{web.url}/checks/")
    page.locator("#crowd").scroll_into_view_if_needed()
    page.locator(".crowd-target").first.wait_for(state="attached", timeout=15_000)
    before = CrowdReport.objects.count()
    page.locator(".crowd-form button").first.click()
    page.get_by_text("your report is counted").wait_for(timeout=15_000)
    wait_for(lambda: CrowdReport.objects.count() == before + 1)
    check("crowd fragment and a report swapped in")

    # A visitor's report whose status answers carry the incidents and their links.
    _visit(page, web.url + hostile_status["report"])
    # Resolves once each opened one has dispatched its toggle event (a vector's handler
    # would have run before ours, registered later), then the opened content renders.
    assert page.locator("details.evidence").evaluate_all(OPEN_ALL), "no closed evidence to open"
    _settle(page)
    check("report: status answers with incidents")

    assert all(count > 0 for count in vectors_seen.values()), vectors_seen
    print(
        f"{len(VECTORS)} vectors, {len(HOSTILE_LINKS)} links; per place: {vectors_seen}; "
        f"outside requests blocked: {len(watch.outside)}"
    )
