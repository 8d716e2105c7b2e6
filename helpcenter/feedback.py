"""'Did this fix work?' votes: one per visitor per fix, no personal data.

The visitor is today's hash from helpcenter.clients; FixFeedback's unique
(fix, visitor_hash) constraint makes a second vote replace the first instead of
adding one. Because the hash rotates every UTC day, the rule is one vote per
visitor per fix per day, which is the price of keeping nothing that identifies
anyone tomorrow.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from helpcenter.models import Fix, FixFeedback, Service
from helpcenter.ratelimit import rate_limited

# A verdict code is a rule's slug (diagnostics' Rule.code is a SlugField, max 60).
_VERDICT_CODE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MAX_VERDICT_CODE = 60


def clean_verdict_code(raw: str | None) -> str:
    """The verdict code from a query string or form, or "" when it is not slug-like."""
    code = (raw or "").strip().lower()
    if len(code) > MAX_VERDICT_CODE or not _VERDICT_CODE.match(code):
        return ""
    return code


def parse_helpful(raw: str | None) -> bool | None:
    """The form's answer: "yes" or "no"; None for anything else."""
    return {"yes": True, "no": False}.get((raw or "").strip().lower())


def votes_rate_limited(request: HttpRequest) -> int | None:
    """Count one vote; seconds to wait when this visitor is over the hourly limit."""
    return rate_limited(request, "vote", settings.VOTE_RATE_PER_HOUR, window=3600)


def current_vote(fix_id: int, visitor: str) -> FixFeedback | None:
    return FixFeedback.objects.filter(fix_id=fix_id, visitor_hash=visitor).first()


def cast_vote(
    fix_id: int,
    visitor: str,
    helpful: bool,
    verdict_code: str = "",
    service_id: int | None = None,
) -> FixFeedback:
    """Record or change this visitor's vote on a fix; never adds a second row.

    A later vote without a verdict code or service keeps the ones the first
    vote came with: the visitor is still answering about the same failure.
    """
    defaults: dict[str, object] = {"helpful": helpful}
    if verdict_code:
        defaults["verdict_code"] = verdict_code
    if service_id:
        defaults["service_id"] = service_id
    try:
        with transaction.atomic():
            vote, _ = FixFeedback.objects.update_or_create(
                fix_id=fix_id, visitor_hash=visitor, defaults=defaults
            )
    except IntegrityError:
        # Two clicks raced past the lookup; the other one created the row.
        FixFeedback.objects.filter(fix_id=fix_id, visitor_hash=visitor).update(**defaults)
        vote = FixFeedback.objects.get(fix_id=fix_id, visitor_hash=visitor)
    return vote


def service_of_vote(fix: Fix, asked: str) -> Service | None:
    """The service a vote on this fix is about: its guide's own, else the one asked.

    A fix of a service's own guide is about that service whatever the address
    says; a general guide's fix takes the service the visitor came about
    (``?service=``), when there is such a service.
    """
    if fix.article.service_id:
        return fix.article.service
    return Service.objects.filter(slug=asked).first() if asked else None
