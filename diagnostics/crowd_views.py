"""Crowd reports ("I have this problem too"). Thin: crowd.py does the work.

Per visitor and per moment, so never cached and never part of the cached
article HTML: article and fix pages hold a slot that htmx fills from here,
with a plain link when JavaScript is off.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_safe

from diagnostics import crowd
from diagnostics.models import Target
from helpcenter.clients import asked_service, visitor_hash
from helpcenter.models import Service


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))  # set by django_htmx's middleware


@require_safe
@never_cache
@ensure_csrf_cookie
def crowd_reports(request: HttpRequest) -> HttpResponse:
    """A service's reportable targets (every service's without one): fragment or page.

    The service comes from ?service=, else from the address of the page htmx
    fills (a general guide opened from a service page), as the checks panel does.
    """
    slug = asked_service(request)
    service = Service.objects.filter(slug=slug).first() if slug else None
    targets = crowd.crowd_targets(service.pk if service else None)
    rows = crowd.for_targets(targets, visitor_hash(request))
    template = "diagnostics/_crowd.html#crowd" if _is_htmx(request) else "diagnostics/_crowd.html"
    return render(request, template, {"rows": rows, "service": service})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@ensure_csrf_cookie
def crowd_target(request: HttpRequest, slug: str) -> HttpResponse:
    """One target's reports; POST adds "I have this problem too" (once per visitor per hour)."""
    target = get_object_or_404(
        Target.objects.select_related("service"), slug=slug, enabled=True, kind=Target.Kind.WEB_APP
    )
    visitor = visitor_hash(request)
    now = timezone.now()
    counted = None
    if request.method == "POST":
        counted = crowd.record(target, visitor, now)
        if not _is_htmx(request):
            back = reverse("diagnostics:crowd")
            if target.service is not None:
                back += "?" + urlencode({"service": target.service.slug})
            return redirect(back)
    rows = crowd.for_targets([target], visitor, now)
    template = "diagnostics/_crowd.html#target" if _is_htmx(request) else "diagnostics/_crowd.html"
    return render(request, template, {"rows": rows, "row": rows[0], "counted": counted})
