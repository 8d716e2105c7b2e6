"""Staff-only views the admin's editor uses (wired by ArticleAdmin.get_urls)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from helpcenter import editing, images, seo
from helpcenter.models import Article, Fix

# Whoever may write an article or its fixes may see how their text will render.
_PREVIEW_PERMISSIONS = ("helpcenter.change_article", "helpcenter.add_article")


@require_POST
@never_cache
def markdown_preview(request: HttpRequest) -> HttpResponse:
    """The public rendering of one Markdown field, with its heading problems.

    ``field`` names the form field holding the text (``body``, ``fixes-0-body``…),
    so the page posts only that field; ``mode=inline`` renders like an FAQ answer.
    """
    if not any(request.user.has_perm(perm) for perm in _PREVIEW_PERMISSIONS):
        raise PermissionDenied
    text = request.POST.get(request.POST.get("field", "body"), "")
    preview = editing.render_preview(text, request.POST.get("mode", "block"))
    template = "admin/helpcenter/preview.html"
    if request.headers.get("HX-Request"):
        template += "#panel"
    return render(request, template, {"preview": preview})


@require_POST
@never_cache
def article_page_preview(request: HttpRequest, object_id: str | None = None) -> HttpResponse:
    """The public article page for the editor's unsaved form, in the site's own look.

    The change form posts here (a second submit button, opening a new tab), so the
    preview is the article template, the site's CSS and JavaScript and its CSP,
    exactly as visitors will get them once saved; nothing is written.
    """
    if not any(request.user.has_perm(perm) for perm in _PREVIEW_PERMISSIONS):
        raise PermissionDenied
    original = Article.objects.filter(pk=object_id).first() if object_id else None
    page = editing.unsaved_page(request.POST, original)
    context = {
        "article": page.article,
        "fixes": page.fixes,
        "faq": page.faq,
        "related": original.related.published() if original else [],
        "breadcrumbs": seo.crumbs(original.category if original else None, page.article),
        "unsaved": True,
    }
    response = render(request, "helpcenter/preview.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_POST
@never_cache
def image_upload(request: HttpRequest) -> JsonResponse:
    """Store one screenshot for the editor's Image button; JSON with its URL or the reason not.

    The description (alt text) is required here as well as in the dialog: an image
    without one says nothing to a reader who cannot see it.
    """
    if not any(request.user.has_perm(perm) for perm in _PREVIEW_PERMISSIONS):
        raise PermissionDenied
    alt = " ".join(request.POST.get("alt", "").split())
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"error": gettext("Choose an image file to upload.")}, status=400)
    if not alt:
        return JsonResponse(
            {"error": gettext("Describe the image for readers who cannot see it (alt text).")},
            status=400,
        )
    try:
        stored = images.store_upload(upload, upload.size or 0)
    except images.ImageRejected as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(
        {"url": stored.url, "width": stored.width, "height": stored.height, "alt": alt}
    )


@require_GET
@never_cache
def link_search(request: HttpRequest) -> JsonResponse:
    """Articles and fixes whose title or slug holds the query, for the editor's Link button.

    Links are written as /articles/<slug>/ paths: a renamed article or fix keeps
    an old slug that redirects, so a link never breaks.
    """
    if not any(request.user.has_perm(perm) for perm in _PREVIEW_PERMISSIONS):
        raise PermissionDenied
    query = " ".join(request.GET.get("q", "").split())[:100]
    articles = Article.objects.order_by("title")
    fixes = Fix.objects.select_related("article").order_by("article__title", "order")
    if query:
        articles = articles.filter(Q(title__icontains=query) | Q(slug__icontains=query))
        fixes = fixes.filter(
            Q(title__icontains=query)
            | Q(slug__icontains=query)
            | Q(article__title__icontains=query)
        )
    results = [
        {
            "kind": "article",
            "title": article.title,
            "url": article.get_absolute_url(),
            "public": article.is_public,
        }
        for article in articles[:10]
    ] + [
        {
            "kind": "fix",
            "title": fix.title,
            "article": fix.article.title,
            "url": fix.get_absolute_url(),
            "public": fix.article.is_public,
        }
        for fix in fixes[:15]
    ]
    return JsonResponse({"results": results})
