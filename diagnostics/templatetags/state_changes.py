"""The "recent changes" list of the status pages, as a tag so their views stay as they are."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from diagnostics import state_changes
from diagnostics.models import Target
from helpcenter.models import Service

register = template.Library()


@register.inclusion_tag("diagnostics/_state_changes.html")
def recent_state_changes(
    target: Target | None = None, service: Service | None = None
) -> dict[str, Any]:
    return {
        "changes": state_changes.recent(target, service_id=service.pk if service else None),
        "target": target,
        "service": service,
        "samples": settings.STATUS_CHANGE_SAMPLES,
    }
