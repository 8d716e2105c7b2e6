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
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.utils import timezone

from diagnostics.models import CheckRun, ProbeResult, Target
from helpcenter.models import Article, Category
from tests.helpcenter.xss_vectors import XSS_VECTORS

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
    yield page, watch


def _published(**fields: Any) -> Article:
    defaults: dict[str, Any] = {"status": "published", "published_at": timezone.now()}
    return Article.objects.create(**{**defaults, **fields})


def _visit(page: Any, url: str, settle_ms: int = 300) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status < 500, url
    page.wait_for_timeout(settle_ms)  # let timers and error events in vectors fire


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
    page.locator("form.run-form button[type=submit]").first.click()
    # htmx posts and swaps the report into the panel; then open the report page itself.
    page.locator("[hx-get^='/checks/']").first.wait_for(state="attached", timeout=30_000)
    page.wait_for_timeout(300)
    assert CheckRun.objects.count() == before + 1
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
        _visit(page, f"{web.url}/search/?q={quote(query)}", settle_ms=100)
        # A text field drops line breaks from its value and HTML turns NUL into U+FFFD;
        # everything else must come back as the text it was.
        shown = page.locator("input[name=q]").first.input_value()
        expected = query.replace("\r", "").replace("\n", "").replace("\x00", "\ufffd")
        assert shown == expected.strip()
    watch.assert_clean(f"search box ({len(queries)} queries holding every vector)")
