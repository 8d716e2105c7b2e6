"""The report's one "Did this fix it?" question: for the fix the visitor says they tried.

A vote from a report is stored like any fix vote (helpcenter.feedback), with the
verdict's code, so editors see which fix solves which failure. Only fixes a
visitor can act on are offered: "wait for the service to recover" is advice.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.verdict import FixLink, Verdict
from helpcenter import feedback
from helpcenter.models import FixFeedback


@dataclass(frozen=True)
class GivenAnswer:
    fix_id: int
    title: str
    helpful: bool


def choices(verdict: Verdict | None) -> list[FixLink]:
    if verdict is None:
        return []
    return [fix for fix in verdict.fixes if fix.ask_if_it_worked and fix.fix_id]


def given(verdict: Verdict | None, visitor: str) -> GivenAnswer | None:
    """The visitor's latest answer about one of this verdict's fixes, if any."""
    offered = {fix.fix_id: fix for fix in choices(verdict)}
    if not offered:
        return None
    vote = (
        FixFeedback.objects.filter(fix_id__in=offered, visitor_hash=visitor)
        .order_by("-created_at")
        .first()
    )
    if vote is None:
        return None
    return GivenAnswer(vote.fix_id, offered[vote.fix_id].title, vote.helpful)


def record(
    verdict: Verdict | None,
    fix_id: str,
    helpful: str,
    visitor: str,
    service_id: int | None = None,
) -> bool:
    """Store the answer; False when the fix is not one this verdict offers or no yes/no.

    ``service_id``: the run's service, kept with the vote (a general fix serves many).
    """
    answer = feedback.parse_helpful(helpful)
    offered = {str(fix.fix_id) for fix in choices(verdict)}
    if verdict is None or answer is None or fix_id not in offered:
        return False
    feedback.cast_vote(int(fix_id), visitor, answer, verdict.code, service_id)
    return True
