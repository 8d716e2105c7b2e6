from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from diagnostics.models import CheckRun, ProbeResult, Rule, RuleFix, Target
from helpcenter.history_admin import HistoryAdminMixin


@admin.register(Target)
class TargetAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["name", "service", "kind", "url", "enabled", "browser_check", "order"]
    list_filter = ["service", "kind", "enabled"]
    prepopulated_fields = {"slug": ("name",)}


class ProbeResultInline(admin.TabularInline):
    model = ProbeResult
    extra = 0
    readonly_fields = ["target", "region", "probe", "outcome", "summary", "latency_ms", "evidence"]


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "service", "state", "article_slug"]
    list_filter = ["state", "service"]
    inlines = [ProbeResultInline]


class RuleFixInline(admin.TabularInline):
    model = RuleFix
    extra = 1
    ordering = ["position", "id"]
    # verdict.fixes_for reads the list this way; editors see it where they edit it.
    verbose_name_plural = _(
        "fixes, in order (a run about a service whose own guides have fixes here gets "
        "those; any other service gets the fixes from general guides)"
    )


@admin.register(Rule)
class RuleAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """Editors order the verdict table here: the first enabled rule that matches wins."""

    list_display = ["order", "name", "code", "tone", "vantage", "visitor_answer", "enabled"]
    list_display_links = ["name"]
    list_editable = ["order", "enabled"]
    list_filter = ["enabled", "tone", "vantage", "service"]
    search_fields = ["name", "code", "headline"]
    inlines = [RuleFixInline]
    fieldsets = [
        (None, {"fields": ["order", "enabled", "name"]}),
        (
            _(
                "When (blank = any; the observation conditions must hold on one and the same "
                "result)"
            ),
            {
                "fields": [
                    "service",
                    "vantage",
                    "target_kind",
                    "target",
                    "probe",
                    "outcomes",
                    "cloudflare_codes",
                    "status_states",
                    "visitor_answer",
                    "controls_failed",
                    "region_scope",
                ]
            },
        ),
        (_("Then tell the visitor"), {"fields": ["code", "headline", "explanation", "tone"]}),
    ]
