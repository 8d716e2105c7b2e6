"""Admin sign-in throttle: a brute-force guess costs a 15-minute wait after a few misses.

Counted per (username, client network), so one attacker cannot lock a real
editor out from the editor's own address, and one client cannot try many
passwords for one account. The counts live in the cache; when the cache is
down (Redis restarting) sign-in stays possible and we log it, because locking
every editor out is worse than a short unthrottled window.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from helpcenter.clients import client_ip

logger = logging.getLogger(__name__)


def max_failures() -> int:
    return settings.LOGIN_MAX_FAILURES


def window_seconds() -> int:
    return settings.LOGIN_FAILURE_WINDOW


def _key(request: HttpRequest, username: str) -> str:
    # Hashed: usernames are free text, and cache keys have a charset and length limit.
    who = f"{username.strip().lower()}\0{client_ip(request)}".encode()
    return "login-failures:" + hashlib.sha256(who).hexdigest()


def is_blocked(request: HttpRequest, username: str) -> bool:
    try:
        failures = cache.get(_key(request, username), 0)
    except Exception:
        logger.warning("login throttle skipped: cache unavailable", exc_info=True)
        return False
    return int(failures) >= max_failures()


def record_failure(request: HttpRequest, username: str) -> None:
    key = _key(request, username)
    try:
        # The window starts at the first miss and is not extended by later ones.
        cache.add(key, 0, timeout=window_seconds())
        cache.incr(key)
    except ValueError:  # expired between add and incr: count this miss afresh
        cache.add(key, 1, timeout=window_seconds())
    except Exception:
        logger.warning("login throttle skipped: cache unavailable", exc_info=True)


def clear(request: HttpRequest, username: str) -> None:
    try:
        cache.delete(_key(request, username))
    except Exception:
        logger.warning("login throttle not cleared: cache unavailable", exc_info=True)
