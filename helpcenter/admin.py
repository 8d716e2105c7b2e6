from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from helpcenter.history_admin import HistoryAdminMixin
from helpcenter.models import Article, Category, FaqEntry, Fix, FixFeedback, FixVotes, SlugRedirect


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
class ArticleAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "category", "status", "published_at", "updated_at"]
    list_filter = ["status", "category"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ("title",)}
    inlines = [FixInline, FaqInline, OldSlugInline]


@admin.register(Category)
class CategoryAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["title", "order"]
    prepopulated_fields = {"slug": ("title",)}


@admin.register(SlugRedirect)
class SlugRedirectAdmin(admin.ModelAdmin):
    list_display = ["old_slug", "article", "fix", "created_at"]
    search_fields = ["old_slug", "article__slug"]
    list_select_related = ["article", "fix"]


# --- "Did this fix work?" votes -------------------------------------------------


@admin.register(FixFeedback)
class FixFeedbackAdmin(admin.ModelAdmin):
    """Each vote; only the answer, the verdict it came from and when (never who)."""

    list_display = ["fix", "helpful", "verdict_code", "created_at"]
    list_filter = ["helpful", "verdict_code", "fix__article", "created_at"]
    search_fields = ["fix__title", "fix__article__title", "verdict_code"]
    list_select_related = ["fix__article"]
    readonly_fields = ["fix", "helpful", "verdict_code", "created_at"]
    exclude = ["visitor_hash"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # votes come from visitors only


@admin.register(FixVotes)
class FixVotesAdmin(admin.ModelAdmin):
    """Per-fix yes / no counts and the share of yes, sortable, one query per page."""

    list_display = ["title", "article", "yes_votes", "no_votes", "helpful_ratio"]
    list_filter = ["article"]
    search_fields = ["title", "article__title"]
    list_select_related = ["article"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Fix]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                yes=Count("feedback", filter=Q(feedback__helpful=True)),
                no=Count("feedback", filter=Q(feedback__helpful=False)),
            )
        )

    @admin.display(description="Yes", ordering="yes")
    def yes_votes(self, obj: Any) -> int:
        return int(obj.yes)

    @admin.display(description="No", ordering="no")
    def no_votes(self, obj: Any) -> int:
        return int(obj.no)

    @admin.display(description="Worked for")
    def helpful_ratio(self, obj: Any) -> str:
        total = obj.yes + obj.no
        return f"{round(100 * obj.yes / total)}%" if total else "none yet"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # fixes are edited on their article
