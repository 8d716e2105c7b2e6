"""Public knowledge-base pages. They hold no per-visitor data, so caches may share them.

No page here reads the session, the user or a CSRF token: any of those would
add a cookie or ``Vary: Cookie`` and stop shared caches from storing them.
Each page answers conditional GETs (ETag / Last-Modified) from one cheap query.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Prefetch
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import condition, require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from helpcenter import editing, feedback, fragments, images, pagecache, seo, share_images
from helpcenter import search as site_search
from helpcenter.clients import asked_service, visitor_hash
from helpcenter.codes import code_links
from helpcenter.models import Article, Category, Fix
from helpcenter.ratelimit import rate_limited

PUBLIC_CACHE = {"public": True, "max_age": 60, "stale_while_revalidate": 300}

State = tuple[str, datetime | None] | None


def _memo_state(compute: Callable[..., State]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """etag and last_modified functions for @condition that share one lookup per request."""

    def state(request: HttpRequest, **kwargs: Any) -> State:
        key = "_page_state"
        if key not in request.__dict__:
            request.__dict__[key] = compute(**kwargs)
        return request.__dict__[key]

    def etag(request: HttpRequest, **kwargs: Any) -> str | None:
        found = state(request, **kwargs)
        return found[0] if found else None

    def last_modified(request: HttpRequest, **kwargs: Any) -> datetime | None:
        found = state(request, **kwargs)
        return found[1] if found else None

    return etag, last_modified


_list_etag, _list_modified = _memo_state(lambda **_: Article.objects.list_state())
_category_etag, _category_modified = _memo_state(Category.page_state_for_slug)
_article_etag, _article_modified = _memo_state(lambda slug, **_: Article.page_state_for_slug(slug))


ArticlePage = tuple[Article, str, datetime]  # the article, its ETag and Last-Modified


def _article_page(request: HttpRequest, slug: str, **_: Any) -> ArticlePage | None:
    """The article page's article and validators, one query per request (shared below)."""
    key = "_article_page"
    if key not in request.__dict__:
        request.__dict__[key] = Article.public_page(slug)
    return request.__dict__[key]


def _article_page_etag(request: HttpRequest, **kwargs: Any) -> str | None:
    found = _article_page(request, **kwargs)
    return found[1] if found else None


def _article_page_modified(request: HttpRequest, **kwargs: Any) -> datetime | None:
    found = _article_page(request, **kwargs)
    return found[2] if found else None


@require_safe
@pagecache.cached_page
@cache_control(**PUBLIC_CACHE)
@condition(etag_func=_list_etag, last_modified_func=_list_modified)
def home(request: HttpRequest) -> HttpResponse:
    published = Article.objects.published().only("title", "slug", "summary", "category_id")
    categories = Category.objects.prefetch_related(Prefetch("articles", queryset=published))
    uncategorised = published.filter(category__isnull=True)
    return render(
        request,
        "helpcenter/home.html",
        {
            "categories": categories,
            "uncategorised": uncategorised,
            "codes": code_links(published.order_by("published_at")),
        },
    )


@require_safe
@pagecache.cached_page
@cache_control(**PUBLIC_CACHE)
@condition(etag_func=_category_etag, last_modified_func=_category_modified)
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug)
    articles = Article.objects.published().filter(category=category)
    return render(
        request,
        "helpcenter/category.html",
        {"category": category, "articles": articles, "breadcrumbs": seo.crumbs(category)},
    )


@require_safe
@pagecache.cached_page
@cache_control(**PUBLIC_CACHE)
@condition(etag_func=_article_page_etag, last_modified_func=_article_page_modified)
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    found = _article_page(request, slug)
    if found is None:
        old, _ = Article.objects.find_public(slug)
        if old is None:
            raise Http404("No such article")
        return HttpResponsePermanentRedirect(old.get_absolute_url())
    article, etag, _ = found
    context = {
        "article": article,
        "breadcrumbs": seo.crumbs(article.category, article),
        "preview": seo.article_preview(article),
        "canonical": seo.absolute(article.get_absolute_url()),
        **_article_fragments(request, article, etag),
    }
    return render(request, "helpcenter/article.html", context)


def _article_fragments(request: HttpRequest, article: Article, etag: str) -> dict[str, Any]:
    """The article's head and content, from the fragment cache when its revision is there.

    The revision is the page's ETag (article, fixes, FAQ and related guides, from
    the validators' query) plus the category the breadcrumbs name.
    """
    category = article.category
    crumb = (category.slug, category.title) if category else ()
    revision = fragments.revision_key(etag, article.pk, *crumb)

    @functools.cache
    def parts() -> dict[str, Any]:
        fixes = _with_article(article.fixes.all(), article)
        faq = list(article.faq.all())
        return {
            "article": article,
            "canonical": seo.absolute(article.get_absolute_url()),
            "preview": seo.article_preview(article),
            "fixes": fixes,
            "faq": faq,
            "related": article.related.published().only("title", "slug", "summary"),
            "structured_data": seo.article_graph(article, fixes, faq),
        }

    def part(name: str) -> fragments.Render:
        return lambda: render_to_string(f"helpcenter/article.html#{name}", parts(), request)

    found = fragments.cached(revision, {"head": part("head"), "content": part("content")})
    return {"head_html": found["head"], "content_html": found["content"]}


@require_safe
@pagecache.cached_page
@cache_control(**PUBLIC_CACHE)
@condition(etag_func=_article_etag, last_modified_func=_article_modified)
def fix_detail(request: HttpRequest, slug: str, fix_slug: str) -> HttpResponse:
    article, article_moved = Article.objects.find_public(slug)
    if article is None:
        raise Http404("No such article")
    fix, fix_moved = article.find_fix(fix_slug)
    if fix is None:
        raise Http404("No such fix")
    fix.article = article  # already loaded: saves a query in get_absolute_url
    if article_moved or fix_moved:
        return HttpResponsePermanentRedirect(fix.get_absolute_url())
    fixes = _with_article(article.fixes.only("title", "slug", "order", "article_id"), article)
    number = next(i for i, other in enumerate(fixes, start=1) if other.pk == fix.pk)
    context = {
        "article": article,
        "fix": fix,
        "number": number,
        "fixes": fixes,
        "preview": seo.fix_preview(article, fix),
        "breadcrumbs": seo.crumbs(article.category, article, fix, number),
        "canonical": seo.absolute(fix.get_absolute_url()),
        "structured_data": seo.fix_graph(article, fix, number),
    }
    return render(request, "helpcenter/fix.html", context)


def _with_article(fixes: Iterable[Fix], article: Article) -> list[Fix]:
    # Each fix links to its own URL, which needs the article's slug: reuse the
    # loaded article rather than one query per fix.
    loaded = list(fixes)
    for fix in loaded:
        fix.article = article
    return loaded


@require_safe
def share_image(request: HttpRequest, name: str) -> FileResponse:
    """A page's current share image; its name changes with what it shows, so it never goes stale."""
    card = share_images.current_card(name)
    if card is None:
        raise Http404("No such image")
    response = FileResponse(share_images.ensure(card).open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_safe
def content_image(request: HttpRequest, name: str) -> FileResponse:
    """An uploaded screenshot; its name is the hash of its bytes, so it never changes.

    nginx serves these from disk in compose; this view does on the embedded default.
    """
    path = images.file_for(name)
    if path is None:
        raise Http404("No such image")
    response = FileResponse(
        path.open("rb"), content_type=images.CONTENT_TYPES[path.suffix.lstrip(".")]
    )
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_safe
@cache_control(public=True, max_age=3600)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /checks/",
        f"Sitemap: {seo.absolute('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A 404 that helps: search, and a few guides most visitors come for."""
    try:
        popular = list(Article.objects.published().order_by("category__order", "title")[:6])
    except DatabaseError:  # a 404 must never turn into a 500
        popular = []
    return render(request, "404.html", {"popular": popular}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's own 500 page, built from the template and the site name alone.

    No context processors and no database: either may be what just failed.
    """
    html: str
    try:
        html = loader.render_to_string("500.html", {"SITE_NAME": settings.SITE_NAME})
    except Exception:  # the page that reports an error must never raise one itself
        html = _bare_error_page()
    return HttpResponseServerError(html)


def _bare_error_page() -> str:
    """The last resort when even the template failed; in English if translating fails too."""
    title, heading = "Server error", "Something went wrong"
    # The catalogue may be what broke; the page must still be sent.
    with contextlib.suppress(Exception):
        title, heading = gettext("Server error"), gettext("Something went wrong")
    return f"<!doctype html><title>{escape(title)}</title><h1>{escape(heading)}</h1>"


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers, compose health checks and monitoring: can we reach what we need?

    Only the database decides the status code. Without Redis or a worker the
    guides still load (the panel says checks are unavailable or delayed), so a
    load balancer must not take every web node out of rotation for them; the
    body says which part is down for monitoring to alert on.
    """
    database = _database_ok()
    cache_ok = _cache_ok()
    workers = _workers_status() if cache_ok else {"ok": None, "regions": {}}
    body = {
        "ok": database and cache_ok and bool(workers["ok"]),
        "database": database,
        "cache": cache_ok,
        "workers": workers,
    }
    return JsonResponse(body, status=200 if database else 503)


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


def _workers_status() -> dict[str, Any]:
    """Each region's newest worker heartbeat, read through settings.HEALTHZ_HEARTBEAT_READER.

    The heartbeat belongs to diagnostics, which this module must not import: the
    reader is named by a dotted string, the way URLs and apps wire diagnostics in.
    """
    reader: Callable[[str], float | None] = import_string(settings.HEALTHZ_HEARTBEAT_READER)
    live_for = settings.HEARTBEAT_SECONDS * 3  # the liveness rule diagnostics.heartbeats uses
    regions: dict[str, dict[str, Any]] = {}
    now = time.time()
    for region in settings.CHECKS_REGIONS or [settings.CHECKS_REGION]:
        try:
            seen = reader(region)
        except Exception:  # a cache error mid-read: unknown, not a crash
            seen = None
        age = None if seen is None else round(max(0.0, now - seen), 1)
        regions[region] = {
            "seconds_since_heartbeat": age,
            "live": age is not None and age < live_for,
        }
    return {"ok": any(r["live"] for r in regions.values()), "regions": regions}


@require_safe
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """Results for ?q=: the whole page, or only the results when htmx asks as you type."""
    query = request.GET.get("q", "").strip()[: site_search.MAX_QUERY_CHARS]
    results = site_search.Results(hits=[])
    if query:
        retry_after = rate_limited(request, "search", settings.SEARCH_RATE_LIMIT)
        if retry_after is not None:
            context = {"query": query, "hits": [], "limited": True}
            response = render(request, "helpcenter/search.html", context, status=429)
            response["Retry-After"] = str(retry_after)
            response["Cache-Control"] = "no-store"
            return response
        # ?exact=1: the visitor chose their own spelling over our correction.
        results = site_search.search(query, correct=request.GET.get("exact") != "1")
        if not results.hits and not results.services:
            site_search.record_miss(query)
    # A history restore (back button) needs the whole page, not the fragment.
    htmx = getattr(request, "htmx", None)  # set by django_htmx's middleware
    partial = htmx is not None and bool(htmx) and not htmx.history_restore_request
    template = "helpcenter/search.html#results" if partial else "helpcenter/search.html"
    context = {
        "query": query,
        "hits": results.hits,
        "corrected": results.corrected,
        "partial": results.partial,
        "services": results.services,
    }
    response = render(request, template, context)
    # Results hold nothing about the visitor, so shared caches may keep them briefly.
    response["Cache-Control"] = "public, max-age=30"
    return response


# --- "Did this fix work?" votes -------------------------------------------------
# Uncached and per visitor, so they live at their own URLs: the cached article and
# fix pages only hold a slot that htmx fills (or a plain link without JavaScript).


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@ensure_csrf_cookie
def fix_vote(request: HttpRequest, slug: str, fix_slug: str) -> HttpResponse:
    """The vote form (a fragment for htmx, a tiny page otherwise) and where it posts."""
    article, _ = Article.objects.find_public(slug)
    fix, _ = article.find_fix(fix_slug) if article is not None else (None, False)
    if article is None or fix is None:
        raise Http404("No such fix")
    fix.article = article
    source = request.POST if request.method == "POST" else request.GET
    verdict = feedback.clean_verdict_code(source.get("verdict"))
    service = feedback.service_of_vote(fix, asked_service(request))
    visitor = visitor_hash(request)
    htmx = bool(getattr(request, "htmx", False))
    context: dict[str, Any] = {
        "fix": fix,
        "article": article,
        "verdict": verdict,
        # A general guide's fix carries the service along; its own guide says it already.
        "service": service if service and not article.service_id else None,
    }
    template = "helpcenter/_vote.html#vote" if htmx else "helpcenter/_vote.html"
    if request.method != "POST":
        context["vote"] = feedback.current_vote(fix.pk, visitor)
        return render(request, template, context)
    helpful = feedback.parse_helpful(request.POST.get("helpful"))
    if helpful is None:
        context["invalid"] = True
        return render(request, template, context, status=400)
    retry_after = feedback.votes_rate_limited(request)
    if retry_after is not None:
        context["retry_minutes"] = max(1, round(retry_after / 60))
        response = render(request, template, context, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    context["vote"] = feedback.cast_vote(
        fix.pk, visitor, helpful, verdict, service.pk if service else None
    )
    if not htmx:
        return redirect(f"{fix.get_absolute_url()}#vote")
    context["thanks"] = True
    return render(request, template, context)


@require_safe
@never_cache
def draft_preview(request: HttpRequest, token: str) -> HttpResponse:
    """An article as last saved (draft or scheduled) for whoever holds a signed, expiring link."""
    try:
        article = editing.article_for_preview(token)
    except editing.PreviewLinkExpired:
        days = {"days": editing.preview_link_days()}
        return _unindexed(render(request, "helpcenter/preview_expired.html", days, status=410))
    except editing.PreviewLinkInvalid:
        raise Http404("No such preview") from None
    context: dict[str, Any] = {
        "article": article,
        "fixes": _with_article(article.fixes.all(), article),
        "faq": list(article.faq.all()),
        "related": article.related.published().only("title", "slug", "summary"),
        "breadcrumbs": seo.crumbs(article.category, article),
    }
    return _unindexed(render(request, "helpcenter/preview.html", context))


def _unindexed(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token is the only key to the draft: do not hand it to linked sites.
    response["Referrer-Policy"] = "no-referrer"
    return response
