"""Offers of "Email me when it's back", placed into diagnostics' pages by name.

Diagnostics' templates load this library by its name only; its Python never
imports the notices app.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.text import get_text_list
from django.utils.translation import gettext

from notices import recovery

register = template.Library()


@register.inclusion_tag("notices/_offer_report.html")
def recovery_offer(run: Any, verdict: Any) -> dict[str, Any]:
    targets = recovery.offer_targets(run, verdict)
    # Joined here, not in a template loop, so the offer is one sentence for translators.
    # Translators: the word before the last of several service names ("A, B and C").
    names = get_text_list([target.name for target in targets], gettext("and"))
    return {"targets": targets, "names": names}


@register.inclusion_tag("notices/_offer_status.html")
def recovery_link(target: Any, state: str) -> dict[str, Any]:
    return {"target": target, "offered": recovery.offered_on_status(state)}


@register.simple_tag
def notice_keep_days() -> int:
    """For the privacy page (a helpcenter template, whose view knows nothing of notices)."""
    return int(settings.NOTICES_KEEP_DAYS)
