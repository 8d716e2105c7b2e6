"""Staff-only views the admin's editor uses (wired by ArticleAdmin.get_urls)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from helpcenter import editing, seo
from helpcenter.models import Article

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
