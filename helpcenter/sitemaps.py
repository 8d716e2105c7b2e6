"""Every public guide and fix page, with absolute URLs on SITE_URL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap

from helpcenter.models import Article, Category, Fix


class _SiteSitemap(Sitemap):
    # Search engines should see the public address, not whichever Host header
    # the request that built the sitemap happened to carry.
    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL or "").scheme or "https"

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL or "").netloc


class ArticleSitemap(_SiteSitemap):
    def items(self) -> Any:
        return Article.objects.published().order_by("pk")

    def lastmod(self, item: Article) -> datetime:
        return item.updated_at


class FixSitemap(_SiteSitemap):
    def items(self) -> Any:
        published = Article.objects.published()
        return Fix.objects.filter(article__in=published).select_related("article").order_by("pk")

    def lastmod(self, item: Fix) -> datetime:
        return item.updated_at


class CategorySitemap(_SiteSitemap):
    def items(self) -> Any:
        return Category.objects.filter(articles__in=Article.objects.published()).distinct()


sitemaps = {"articles": ArticleSitemap, "fixes": FixSitemap, "categories": CategorySitemap}
