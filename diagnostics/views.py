"""The run-checks panel, the checks page and the report. Thin: runs.py, tasks.py, verdict.py,
visitors.py and the models do the work."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from diagnostics import csp, fix_feedback, marks, visitors
from diagnostics.evidence import target_rows
from diagnostics.models import CheckRun, Target
from diagnostics.runs import plan_run
from diagnostics.tasks import start_run
from diagnostics.verdict import (
    VISITOR_ANSWERS,
    clean_browser_report,
    support_message,
)
from helpcenter import feedback
from helpcenter.clients import asked_service, visitor_hash
from helpcenter.models import Article, Service
from helpcenter.seo import absolute

MAX_BROWSER_REPORT = 16_384
# A shared report opened later than this says how old it is: its "just now" and
# "checked 20 s ago" were true when the checks ran, not when the link is opened.
REPORT_OLD_AFTER = timedelta(minutes=5)
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,119}")


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails  # set by django_htmx's middleware


@require_safe
@never_cache
@ensure_csrf_cookie
def panel(request: HtmxHttpRequest) -> HttpResponse:
    """The panel fragment an article page fetches: it, not the page, sets the CSRF cookie.

    A general guide's panel asks which service; it starts on the one named in the
    page's own address (``?service=discord`` in a shared link), which htmx sends
    as HX-Current-URL, so the cached page itself never varies by it.
    """
    article_slug = _article_slug(request.GET.get("article", ""))
    choice = ServiceChoice.of(article_slug, asked_service(request))
    if request.GET.get("fixed") == "1" and choice.service is not None:
        # A service's own page names the service, as a guide about one does: no picker.
        choice = replace(choice, fixed=True)
    return render(request, "diagnostics/panel.html", _form_context(article_slug, choice))


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@ensure_csrf_cookie
def checks_page(request: HtmxHttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    article_slug = _article_slug(data.get("article", ""))
    choice = ServiceChoice.of(article_slug, data.get("service", ""))
    if request.method != "POST" or not choice.ready:
        # A first visit, or a press without a service when there is more than one.
        context = _form_context(article_slug, choice, missing_service=request.method == "POST")
        template = "diagnostics/checks.html"
        if request.htmx:
            template = "diagnostics/panel.html"
        status = 400 if request.method == "POST" else 200
        return _allow_browser_checks(render(request, template, context, status=status))
    service_id = choice.service.pk if choice.service else None
    plan = plan_run(service_id)
    visitor = visitor_hash(request)
    decision = visitors.allow_run(visitor, outbound=plan.sends_outbound)
    if not decision.allowed:
        return _too_many(request, article_slug, choice, decision)
    targets = plan.browser_targets  # loaded by plan_run: no second query
    browser = request.POST.get("browser_checks") == "1" and bool(targets)
    run = start_run(article_slug=article_slug, plan=plan, browser_expected=browser)
    run.record_answer(request.POST.get("sees", ""), request.POST.get("pasted", ""))
    if request.htmx:
        return _render_report(request, run, partial=True, targets=targets)
    return redirect(run)


@require_safe
@never_cache
def report(request: HtmxHttpRequest, run_id: UUID) -> HttpResponse:
    if request.htmx and marks.unchanged(run_id, request.GET.get("seen", "")):
        # Nothing new since the panel's last render: say so without the database.
        return HttpResponse(status=204)
    run = get_object_or_404(CheckRun, pk=run_id)
    if run.is_expired:
        return render(request, "diagnostics/expired.html", status=410)
    return _render_report(request, run, partial=bool(request.htmx))


@require_POST
@never_cache
def answer(request: HtmxHttpRequest, run_id: UUID) -> HttpResponse:
    """What the visitor sees, told after the run: it can change the verdict."""
    run = get_object_or_404(CheckRun, pk=run_id)
    if run.is_expired:
        return render(request, "diagnostics/expired.html", status=410)
    run.record_answer(request.POST.get("sees", ""), request.POST.get("pasted", ""))
    if request.htmx:
        return _render_report(request, run, partial=True)
    return redirect(run)


@require_POST
@never_cache
def fix_worked(request: HtmxHttpRequest, run_id: UUID) -> HttpResponse:
    """The report's one "Did this fix it?" answer, about the fix the visitor tried."""
    run = get_object_or_404(CheckRun, pk=run_id)
    if run.is_expired:
        return render(request, "diagnostics/expired.html", status=410)
    retry_after = feedback.votes_rate_limited(request)
    if retry_after is not None:
        message = gettext("Too many answers in a short while; try again later.")
        response = _refused_answer(request, run, message, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    verdict = run.verdict() if run.has_verdict else None
    fix = request.POST.get("fix", "")
    if not fix_feedback.record(
        verdict, fix, request.POST.get("helpful", ""), visitor_hash(request), run.service_id
    ):
        message = gettext("Pick one of the fixes and answer Yes or No.")
        return _refused_answer(request, run, message, status=400)
    if request.htmx:
        return _render_report(request, run, partial=True)
    return redirect(run.get_absolute_url() + "#fix-worked")


def _rerun_url(run: CheckRun) -> str:
    """Where to press Run checks again: the checks page, set to the run's service."""
    service = f"?service={run.service.slug}" if run.service else ""
    return reverse("diagnostics:checks") + service


def _refused_answer(
    request: HtmxHttpRequest, run: CheckRun, message: str, *, status: int
) -> HttpResponse:
    """The report again, the refusal written beside the question (the form opts in
    to swapping a 4xx answer), so a press never looks as if nothing happened."""
    response = _render_report(request, run, partial=bool(request.htmx), fix_error=message)
    response.status_code = status
    return response


@require_POST
@never_cache
def browser_findings(request: HtmxHttpRequest, run_id: UUID) -> HttpResponse:
    """The browser's own reachability checks, posted once by static/js/checks.js.

    The script asks as htmx would (HX-Request), and gets the panel back with the
    verdict refined by what the browser saw; it swaps that in place.
    """
    run = get_object_or_404(CheckRun, pk=run_id)
    if run.is_expired or run.browser_findings is not None:
        return HttpResponse(status=409)
    if len(request.body) > MAX_BROWSER_REPORT:
        return HttpResponse(status=413)
    try:
        data = json.loads(request.body)
    except ValueError:
        return HttpResponse(status=400)
    targets = _browser_targets(run.service_id)
    cleaned = clean_browser_report(data, {target.slug for target in targets})
    if cleaned is None:
        return HttpResponse(status=400)
    run.record_browser_findings(cleaned)
    if request.htmx:
        return _render_report(request, run, partial=True, targets=targets)
    return HttpResponse(status=204)


def _article_slug(value: str) -> str:
    """The guide a run started from: a slug or nothing (it is stored and put in links)."""
    return value if _SLUG.fullmatch(value) else ""


@dataclass(frozen=True)
class ServiceChoice:
    """Which service a press of Run checks is about, and what the form offers.

    A guide about one service decides it; a general guide (or none) takes the
    visitor's pick, or the only service there is. ``ready``: a run can start.
    """

    service: Service | None
    services: list[Service]
    fixed: bool  # the guide names the service: the form shows no picker

    @classmethod
    def of(cls, article_slug: str, asked: str | None) -> ServiceChoice:
        services = list(Service.objects.all())
        owner = (
            Article.objects.filter(slug=article_slug, service__isnull=False)
            .values_list("service_id", flat=True)
            .first()
            if article_slug
            else None
        )
        by_id = {service.pk: service for service in services}
        if owner in by_id:
            return cls(by_id[owner], services, fixed=True)
        picked = next((s for s in services if s.slug == asked), None)
        if picked is None and len(services) == 1:
            picked = services[0]
        return cls(picked, services, fixed=False)

    @property
    def ready(self) -> bool:
        # No services at all (an empty install): the run checks the shared targets.
        return self.service is not None or not self.services


def _form_context(
    article_slug: str, choice: ServiceChoice | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "article_slug": article_slug,
        "answers": VISITOR_ANSWERS.items(),
        "service": choice.service if choice else None,
        "services": choice.services if choice and not choice.fixed else [],
        **extra,
    }


def _too_many(
    request: HtmxHttpRequest,
    article_slug: str,
    choice: ServiceChoice,
    decision: visitors.RateDecision,
) -> HttpResponse:
    minutes = max(1, round(decision.retry_after / 60))
    context = _form_context(
        article_slug,
        choice,
        retry_after=decision.retry_after,
        retry_minutes=minutes,
        scope=decision.scope,
    )
    template = "diagnostics/panel.html#inside" if request.htmx else "diagnostics/checks.html"
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


def _browser_targets(service_id: int | None = None) -> list[Target]:
    """The targets a visitor's browser fetches: its service's own and the shared ones."""
    return list(Target.objects.checked_for(service_id).filter(browser_check=True))


def _allow_browser_checks(
    response: HttpResponse, targets: list[Target] | None = None
) -> HttpResponse:
    """Let this page's script reach exactly the browser-check targets' origins.

    Without ``targets``: those of every service, for a page whose form may start
    a run about any of them and swap its report in (the page's policy holds).
    """
    if targets is None:
        targets = list(Target.objects.filter(enabled=True, browser_check=True))
    return csp.with_connect_src(response, csp.origins_of(targets))


def _render_report(
    request: HtmxHttpRequest,
    run: CheckRun,
    *,
    partial: bool,
    targets: list[Target] | None = None,
    fix_error: str = "",
) -> HttpResponse:
    """The report, or its panel part for htmx.

    ``targets``: the browser-check targets when the view has loaded them already
    (one query fewer on the press and the browser's post, the busiest requests
    in an outage).
    """
    # The mark first: a change landing after this point clears it (marks.py).
    seen = marks.current(run.pk, run.created_at)
    run.refresh_from_db()
    results = list(run.results.select_related("target"))
    verdict = run.verdict(results) if run.has_verdict else None
    support = ""
    if verdict is not None and verdict.is_cloudflare_block:
        support = support_message(
            verdict,
            run.created_at,
            page_time=run.pasted_time,
            service=run.service.name if run.service else "",
        )
    targets = _browser_targets(run.service_id) if targets is None else targets
    browser_targets = [
        {"slug": t.slug, "kind": t.kind, "url": t.get_browser_url()} for t in targets
    ]
    fetched = (run.browser_findings or {}).get("fetches", {})
    browser_rows = [(t, fetched[t.slug]) for t in targets if t.slug in fetched]
    impaired = run.impaired_regions(results)
    context = {
        "run": run,
        "rows": target_rows(results),
        # Every region failed even the controls: a failure says nothing about a target,
        # so its row must not read "Down" (the verdict says we can't tell).
        "checks_impaired": bool(impaired) and set(impaired) >= set(run.regions),
        "done_count": len(results),
        "waiting_for": [] if run.is_finished else run.waiting_for(results),
        # With one region the verdict itself says our checks are impaired.
        "impaired_regions": impaired if len(run.regions) > 1 else [],
        "tried_fixes": fix_feedback.choices(verdict),
        "fix_answer": fix_feedback.given(verdict, visitor_hash(request)),
        "fix_error": fix_error,
        "old_report": run.is_finished and timezone.now() - run.created_at > REPORT_OLD_AFTER,
        "rerun_url": _rerun_url(run),
        "share_url": absolute(run.get_absolute_url()),
        "verdict": verdict,
        "support": support,
        "browser_rows": browser_rows,
        "answers": VISITOR_ANSWERS.items(),
        "answer_label": VISITOR_ANSWERS.get(run.visitor_answer, ""),
        "browser_targets": json.dumps(browser_targets) if run.awaiting_browser else "",
        "server_now_ms": int(time.time() * 1000),
        "poll_url": f"{run.get_absolute_url()}?seen={seen}",
        "poll_schedule": ",".join(f"{wait:g}" for wait in settings.CHECKS_POLL_SCHEDULE),
    }
    template = "diagnostics/report.html#run-status" if partial else "diagnostics/report.html"
    response = _allow_browser_checks(render(request, template, context), targets)
    done = run.is_finished or run.is_delayed
    if partial and done and request.method == "GET":
        # 286 tells htmx to stop polling; the body still replaces the panel.
        stopped = HttpResponseStopPolling(response.content)
        return _allow_browser_checks(stopped, targets)
    return response
