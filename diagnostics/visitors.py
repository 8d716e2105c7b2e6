"""Run rate limits per visitor and for everyone.

A visitor is the daily-rotated, salted hash from helpcenter.clients, shared with
votes and crowd reports; the raw address is never stored.

Counters are helpcenter.ratelimit's (in the cache: Redis, or the database cache
in the embedded default). A cache that fails must not take the page down with
it: the limit then lets the run through and logs, since the broker check still
says when checks are unavailable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from helpcenter import ratelimit


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0  # seconds until the window that refused the run ends
    scope: str = ""  # "visitor" or "everyone", when refused


ALLOWED = RateDecision(True)


def _limit(scope: str, who: str, limit: int, window: int, now: float) -> RateDecision:
    if limit <= 0:
        return ALLOWED
    wait = ratelimit.hit(f"checks:rate:{scope}:{who}", limit, window, now)
    return ALLOWED if wait is None else RateDecision(False, wait, scope)


def allow_run(visitor: str, now: float | None = None, *, outbound: bool = True) -> RateDecision:
    """Count one run for this visitor and, if it will probe, for everyone; refuse past a limit.

    ``outbound``: the run would send a request to some target (runs.RunPlan). The
    global limit guards the targets and our workers, so a run answered entirely
    from fresh or in-flight results neither counts against it nor is refused by it.
    """
    at = time.time() if now is None else now

    def decide() -> RateDecision:
        mine = _limit(
            "visitor",
            visitor,
            settings.CHECKS_RATE_PER_VISITOR,
            settings.CHECKS_RATE_VISITOR_WINDOW,
            at,
        )
        if not mine.allowed or not outbound:
            return mine
        return _limit(
            "everyone",
            "all",
            settings.CHECKS_RATE_GLOBAL,
            settings.CHECKS_RATE_GLOBAL_WINDOW,
            at,
        )

    return ratelimit.open_on_error("run rate limit", decide, ALLOWED)
