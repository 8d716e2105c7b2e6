"""Every rate limit in the house: counters in the shared cache, and one way to fail.

Two kinds of counter, both here so no caller keeps its own:

- ``hit``: a fixed window; each request counts, and past the limit the caller
  waits until the window ends. Runs (diagnostics.visitors), votes and search
  (``rate_limited``, per visitor) use it.
- ``failures`` / ``note_failure`` / ``forget``: a window opened by the first
  failure, where only misses count (the admin sign-in, helpcenter.login_throttle).

A cache that fails (Redis restarting) lets the request through and logs: a
missing limit is better than a missing page, and than every editor locked out.
Keys never hold an address: per-visitor keys use the daily visitor hash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest

from helpcenter.clients import visitor_hash

logger = logging.getLogger(__name__)


def hit(key: str, limit: int, window: int, now: float | None = None) -> int | None:
    """Count one hit in the fixed window holding ``now``; seconds to wait once past ``limit``.

    Cache errors propagate: use ``open_on_error`` (or ``rate_limited``) to fail open.
    """
    now = time.time() if now is None else now
    start = int(now // window) * window
    slot_key = f"{key}:{start}"
    # add() is a no-op when the key exists, so only the window's first hit sets the expiry.
    cache.add(slot_key, 0, timeout=window + 5)
    try:
        count = int(cache.incr(slot_key))
    except ValueError:  # expired between add and incr: this is the first hit again
        return None
    if count <= limit:
        return None
    return max(1, int(start + window - now))


def open_on_error[T](what: str, count: Callable[[], T], fallback: T) -> T:
    """Run a counter; when the cache fails, log "<what> skipped" and return ``fallback``."""
    try:
        return count()
    except Exception:
        logger.warning("%s skipped: cache unavailable", what, exc_info=True)
        return fallback


def rate_limited(request: HttpRequest, scope: str, limit: int, window: int = 60) -> int | None:
    """Count this request for its visitor; seconds to wait when over the limit, else None."""
    key = f"ratelimit:{scope}:{visitor_hash(request)}"
    return open_on_error(f"rate limit for {scope}", lambda: hit(key, limit, window), None)


# --- counting failures only (sign-in) ---------------------------------------------------


def failures(key: str) -> int:
    """Failures counted under ``key`` in its open window; raises on cache errors."""
    return int(cache.get(key, 0))


def note_failure(key: str, window: int) -> None:
    """Count one failure; the window starts at the first and is not extended by later ones."""
    try:
        cache.add(key, 0, timeout=window)
        cache.incr(key)
    except ValueError:  # expired between add and incr: count this miss afresh
        cache.add(key, 1, timeout=window)


def forget(key: str) -> None:
    cache.delete(key)
