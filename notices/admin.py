"""Admin: superusers find a subscription by its address and delete it; editors never see one.

Editors (staff in the Editor group) see only counts, at /staff/notices/.
Addresses and webhook secrets are for superusers whatever permissions a
group is given, so a broad editor role cannot leak them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from notices.models import Subscription, Webhook, WebhookDelivery


class SuperuserOnly(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)


@admin.register(Subscription)
class SubscriptionAdmin(SuperuserOnly):
    list_display = ("email", "target", "created_at", "confirmed_at")
    list_filter = ("target",)
    search_fields = ("email",)
    readonly_fields = ("email", "target", "created_at", "confirmed_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # addresses come only from their owner, with a confirmation


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    fields = ("created_at", "event_key", "status", "attempts", "last_error", "sent_at")
    readonly_fields = fields
    can_delete = False
    max_num = 0
    ordering = ("-created_at",)


@admin.register(Webhook)
class WebhookAdmin(SuperuserOnly):
    list_display = ("name", "kind", "url", "enabled", "failed_deliveries")
    fields = ("name", "url", "kind", "secret", "enabled", "on_state_change", "on_crowd_surge")
    inlines = [DeliveryInline]

    @admin.display(description=_("Failed deliveries"))
    def failed_deliveries(self, webhook: Webhook) -> int:
        return webhook.deliveries.filter(
            status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.RETRYING]
        ).count()


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperuserOnly):
    list_display = ("created_at", "webhook", "event_key", "status", "attempts", "last_error")
    list_filter = ("status", "webhook")
    readonly_fields = (
        "webhook", "event_key", "body", "status", "attempts", "last_error", "created_at", "sent_at",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
