from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from helpcenter.models import Article, Category, FaqEntry, Fix, SlugRedirect


class FixInline(admin.StackedInline):
    model = Fix
    extra = 0
    prepopulated_fields = {"slug": ("title",)}


class FaqInline(admin.StackedInline):
    model = FaqEntry
    extra = 0


class OldSlugInline(admin.TabularInline):
    """Old URLs that redirect here: recorded on save, shown so editors know they exist."""

    model = SlugRedirect
    fk_name = "article"
    extra = 0
    fields = ("old_slug", "fix", "created_at")
    readonly_fields = ("old_slug", "fix", "created_at")
    can_delete = True  # an editor may free an old slug on purpose
    verbose_name = "old URL slug"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "category", "status", "published_at", "updated_at"]
    list_filter = ["status", "category"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ("title",)}
    inlines = [FixInline, FaqInline, OldSlugInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["title", "order"]
    prepopulated_fields = {"slug": ("title",)}


@admin.register(SlugRedirect)
class SlugRedirectAdmin(admin.ModelAdmin):
    list_display = ["old_slug", "article", "fix", "created_at"]
    search_fields = ["old_slug", "article__slug"]
    list_select_related = ["article", "fix"]
