"""Admin sign-in throttle: a brute-force guess costs a 15-minute wait after a few misses.

Counted per (username, client network), so one attacker cannot lock a real
editor out from the editor's own address, and one client cannot try many
passwords for one account. The counts live in the cache (helpcenter.ratelimit's
failure counter); when the cache is down (Redis restarting) sign-in stays
possible and we log it, because locking every editor out is worse than a short
unthrottled window.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest

from helpcenter import ratelimit
from helpcenter.clients import client_ip

WHAT = "login throttle"


def max_failures() -> int:
    return settings.LOGIN_MAX_FAILURES


def window_seconds() -> int:
    return settings.LOGIN_FAILURE_WINDOW


def _key(request: HttpRequest, username: str) -> str:
    # Hashed: usernames are free text, and cache keys have a charset and length limit.
    who = f"{username.strip().lower()}\0{client_ip(request)}".encode()
    return "login-failures:" + hashlib.sha256(who).hexdigest()


def is_blocked(request: HttpRequest, username: str) -> bool:
    key = _key(request, username)
    return ratelimit.open_on_error(WHAT, lambda: ratelimit.failures(key), 0) >= max_failures()


def record_failure(request: HttpRequest, username: str) -> None:
    key = _key(request, username)
    ratelimit.open_on_error(WHAT, lambda: ratelimit.note_failure(key, window_seconds()), None)


def clear(request: HttpRequest, username: str) -> None:
    key = _key(request, username)
    ratelimit.open_on_error("login throttle reset", lambda: ratelimit.forget(key), None)
