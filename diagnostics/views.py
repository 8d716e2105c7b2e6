"""The run-checks panel, the checks page and the report. Thin: runs.py does the work."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseStopPolling

from diagnostics.models import CheckRun
from diagnostics.runs import start_run


@require_safe
@never_cache
@ensure_csrf_cookie
def panel(request: HttpRequest) -> HttpResponse:
    """The panel fragment an article page fetches: it, not the page, sets the CSRF cookie."""
    article_slug = request.GET.get("article", "")[:120]
    return render(request, "diagnostics/panel.html", {"article_slug": article_slug})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@ensure_csrf_cookie
def checks_page(request: HttpRequest) -> HttpResponse:
    article_slug = request.POST.get("article", request.GET.get("article", ""))[:120]
    if request.method != "POST":
        return render(request, "diagnostics/checks.html", {"article_slug": article_slug})
    run = start_run(article_slug=article_slug)
    if request.htmx:
        return _render_report(request, run, partial=True)
    return redirect(run)


@require_safe
@never_cache
def report(request: HttpRequest, run_id: UUID) -> HttpResponse:
    run = get_object_or_404(CheckRun, pk=run_id)
    return _render_report(request, run, partial=bool(request.htmx))


def _render_report(request: HttpRequest, run: CheckRun, *, partial: bool) -> HttpResponse:
    run.refresh_from_db()
    context = {
        "run": run,
        "results": run.results.select_related("target"),
        "poll_seconds": settings.CHECKS_POLL_SECONDS,
    }
    template = "diagnostics/report.html#run-status" if partial else "diagnostics/report.html"
    response = render(request, template, context)
    done = run.is_finished or run.is_delayed
    if partial and done and request.method == "GET":
        # 286 tells htmx to stop polling; the body still replaces the panel.
        return HttpResponseStopPolling(response.content)
    return response
