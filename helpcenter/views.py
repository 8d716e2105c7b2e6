"""Public knowledge-base pages. They hold no per-visitor data, so caches may share them."""

from __future__ import annotations

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from helpcenter.models import Article

PUBLIC_CACHE = {"public": True, "max_age": 60, "stale_while_revalidate": 300}


@require_safe
@cache_control(**PUBLIC_CACHE)
def home(request: HttpRequest) -> HttpResponse:
    articles = Article.objects.published().select_related("category")
    return render(request, "helpcenter/home.html", {"articles": articles})


@require_safe
@cache_control(**PUBLIC_CACHE)
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(Article.objects.published(), slug=slug)
    return render(
        request,
        "helpcenter/article.html",
        {
            "article": article,
            "fixes": article.fixes.all(),
            "faq": article.faq.all(),
        },
    )


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose health checks: can we reach our own stores?"""
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    status = 200 if checks["database"] else 503
    return JsonResponse({"ok": all(checks.values()), **checks}, status=status)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _cache_ok() -> bool:
    try:
        cache.set("healthz", "1", 5)
        return cache.get("healthz") == "1"
    except Exception:  # any backend's connection error means "not reachable"
        return False
