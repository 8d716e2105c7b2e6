"""The status pages, the privacy page and the live status fragment.

Thin views: summary.py and live.py read the stored history and build the charts.
The pages are shared by every visitor, so briefly cacheable; the live fragment
is per moment, so never cached, and htmx fills its slot on fix pages.
They live in diagnostics (the knowledge base never imports it) and are wired
into helpcenter/urls.py by string through diagnostics.status.urls.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from diagnostics.models import Target
from diagnostics.status import live, services, summary
from helpcenter.models import Article, Service

# No per-visitor data on these pages; thirty seconds keeps them close to live.
STATUS_CACHE = {"public": True, "max_age": 30}
PRIVACY_CACHE = {"public": True, "max_age": 300}


@require_safe
@cache_control(**STATUS_CACHE)
def status_overview(request: HttpRequest) -> HttpResponse:
    groups = services.grouped_overview()
    impaired_at = summary.impaired_now([s for group in groups for s in group.statuses])
    context = {
        "groups": groups,
        "days": summary.UPTIME_DAYS,
        "impaired": (summary.impaired_sentence(impaired_at, several=True) if impaired_at else ""),
    }
    return render(request, "diagnostics/status_overview.html", context)


@require_safe
@cache_control(**STATUS_CACHE)
def status_target(request: HttpRequest, slug: str) -> HttpResponse:
    target = Target.objects.filter(slug=slug, enabled=True).first()
    if target is None:
        raise Http404("No such target")
    return render(
        request,
        "diagnostics/status_target.html",
        {"status": summary.status_for(target, with_latency=True), "days": summary.UPTIME_DAYS},
    )


@require_safe
@cache_control(**STATUS_CACHE)
def service_page(request: HttpRequest, slug: str) -> HttpResponse:
    """One service: is it down now, its history, crowd reports, Run checks and its guides.

    Everything comes from stored checks (no request goes out per view); the
    crowd reports and the checks are per visitor, so htmx fetches them into slots.
    """
    service = Service.objects.filter(slug=slug).first()
    if service is None:
        raise Http404("No such service")
    state = services.service_page_state(service)
    impaired_at = summary.impaired_now(state.statuses)
    guides = Article.objects.published().filter(service=service).order_by("title")
    general = Article.objects.published().filter(service__isnull=True).order_by("title")
    context = {
        "service": service,
        "state": state,
        "statuses": state.statuses,
        "days": summary.UPTIME_DAYS,
        "impaired": summary.impaired_sentence(impaired_at, several=True) if impaired_at else "",
        "guides": list(guides),
        "general_guides": list(general),
    }
    return render(request, "diagnostics/service.html", context)


@require_safe
@cache_control(**PRIVACY_CACHE)
def privacy(request: HttpRequest) -> HttpResponse:
    hosts = sorted(
        {
            urlsplit(target.get_browser_url()).hostname or ""
            for target in Target.objects.filter(enabled=True, browser_check=True)
        }
        - {""}
    )
    context = {
        "report_days": settings.CHECKS_REPORT_DAYS,
        "crowd_days": settings.CROWD_BASELINE_DAYS + 1,
        "sample_days": settings.CHECKS_SAMPLE_KEEP_DAYS,
        "rollup_days": settings.CHECKS_ROLLUP_KEEP_DAYS,
        "browser_hosts": hosts,
    }
    return render(request, "helpcenter/privacy.html", context)


@require_safe
@never_cache
def live_status(request: HttpRequest) -> HttpResponse:
    """The latest stored state of the status pages and web apps, with its age.

    ``?service=``: that service's targets and the shared ones (a guide about it).
    """
    template = "diagnostics/_live_status.html"
    if getattr(request, "htmx", False):
        template += "#live"
    service = Service.objects.filter(slug=request.GET.get("service", "")).first()
    rows = live.live_rows(service_id=service.pk if service else None)
    context = {"rows": rows, "impaired": live.impaired_note(rows), "service": service}
    return render(request, template, context)


@require_safe
@never_cache
def services_live(request: HttpRequest) -> HttpResponse:
    """Each service's state in one line, from stored checks (the home page's slot)."""
    template = "diagnostics/_services_live.html"
    if getattr(request, "htmx", False):
        template += "#lines"
    return render(request, template, {"states": services.every_service()})
