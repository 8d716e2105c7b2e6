"""Every public page for search engines, with absolute URLs on SITE_URL.

lastmod is what the page itself reports as Last-Modified: an article and its
fix pages change with the article, its fixes, FAQ and related guides.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.cache import cache_control
from django.views.decorators.csp import csp_override

from helpcenter.models import Article, Category, Fix


class SiteSitemap(Sitemap):
    # Search engines should see the public address, not whichever Host header
    # the request that built the sitemap happened to carry.
    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL or "").scheme or "https"

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL or "").netloc


class HomeSitemap(SiteSitemap):
    def items(self) -> list[str]:
        return ["home"]

    def location(self, item: str) -> str:
        return reverse(item)

    def lastmod(self, item: str) -> datetime | None:
        return Article.objects.list_state()[1]


class ArticleSitemap(SiteSitemap):
    def items(self) -> Any:
        self.times = Article.objects.published().page_times()
        return Article.objects.published().order_by("pk")

    def lastmod(self, item: Article) -> datetime:
        return self.times.get(item.pk, item.updated_at)


class FixSitemap(SiteSitemap):
    def items(self) -> Any:
        published = Article.objects.published()
        self.times = published.page_times()
        return Fix.objects.filter(article__in=published).select_related("article").order_by("pk")

    def lastmod(self, item: Fix) -> datetime:
        # A fix page shows its guide and the other fixes: it changes with the article's.
        return self.times.get(item.article_id, item.updated_at)


class CategorySitemap(SiteSitemap):
    def items(self) -> Any:
        return Category.objects.filter(articles__in=Article.objects.published()).distinct()

    def lastmod(self, item: Category) -> datetime | None:
        state = Category.page_state_for_slug(item.slug)
        return state[1] if state else None


def sections() -> dict[str, Any]:
    return {
        "home": HomeSitemap,
        "articles": ArticleSitemap,
        "fixes": FixSitemap,
        "categories": CategorySitemap,
        # By name: the knowledge base never imports diagnostics, which owns the status pages.
        "status": import_string("diagnostics.sitemaps.StatusSitemap"),
    }


# Chromium shows a sitemap in its XML viewer, which styles the tree with inline
# styles and data: images; the site's strict policy would block them and leave
# the tree unstyled. An XML file runs no script of ours, so this lets in only
# what the viewer needs.
XML_VIEWER_CSP = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
}


@csp_override(XML_VIEWER_CSP)
@cache_control(public=True, max_age=3600)
def sitemap_xml(request: HttpRequest) -> HttpResponse:
    return sitemap(request, sitemaps=sections(), template_name="helpcenter/sitemap.xml")
