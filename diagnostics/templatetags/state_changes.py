"""The "recent changes" list of the status pages, as a tag so their views stay as they are."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from diagnostics import state_changes
from diagnostics.models import Target

register = template.Library()


@register.inclusion_tag("diagnostics/_state_changes.html")
def recent_state_changes(target: Target | None = None) -> dict[str, Any]:
    return {
        "changes": state_changes.recent(target),
        "target": target,
        "samples": settings.STATUS_CHANGE_SAMPLES,
    }
