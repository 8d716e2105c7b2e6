"""Pages for the people who write the help center (not for visitors, never cached)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from helpcenter.content_health import broken_links, top_search_misses, worst_fixes

EDITOR_GROUP = "Editor"


def can_see_content_health(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name=EDITOR_GROUP).exists()


@never_cache
@require_safe
def content_health(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not can_see_content_health(request):
        raise PermissionDenied
    links = broken_links()
    context = {
        "misses": top_search_misses(),
        "worst_fixes": worst_fixes(),
        "broken": [link for link in links if not link.redirect],
        "redirecting": [link for link in links if link.redirect],
    }
    return render(request, "helpcenter/content_health.html", context)
