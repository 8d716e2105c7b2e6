from __future__ import annotations

from django.contrib import admin

from diagnostics.models import CheckRun, ProbeResult, Target


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "url", "enabled", "order"]
    list_filter = ["kind", "enabled"]
    prepopulated_fields = {"slug": ("name",)}


class ProbeResultInline(admin.TabularInline):
    model = ProbeResult
    extra = 0
    readonly_fields = ["target", "region", "probe", "outcome", "summary", "latency_ms", "evidence"]


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "state", "article_slug"]
    list_filter = ["state"]
    inlines = [ProbeResultInline]
