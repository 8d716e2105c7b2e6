from __future__ import annotations

from django.contrib import admin

from helpcenter.models import Article, Category, FaqEntry, Fix, SlugRedirect


class FixInline(admin.StackedInline):
    model = Fix
    extra = 0
    prepopulated_fields = {"slug": ("title",)}


class FaqInline(admin.StackedInline):
    model = FaqEntry
    extra = 0


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "published_at", "updated_at"]
    list_filter = ["status", "category"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ("title",)}
    inlines = [FixInline, FaqInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["title", "order"]
    prepopulated_fields = {"slug": ("title",)}


@admin.register(SlugRedirect)
class SlugRedirectAdmin(admin.ModelAdmin):
    list_display = ["old_slug", "article", "fix", "created_at"]
