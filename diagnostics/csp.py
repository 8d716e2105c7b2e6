"""connect-src for the browser-side checks: exactly the enabled browser-check targets' origins.

The report views add them per response; BrowserChecksCSPMiddleware adds them to
the cached article and fix pages, whose panel arrives by htmx and runs the same
checks. Those pages are shared by every visitor, so the list is the same for
everyone (no per-visitor CSP) and is remembered briefly in each process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from diagnostics.models import Target

log = logging.getLogger(__name__)

# An admin's edit reaches the article pages' CSP within this long.
CACHE_SECONDS = 60
# Views (by URL name) whose pages embed the panel.
# The public pages, and the two previews of them (a draft's signed link, and the
# editor's unsaved form), which must run the panel exactly as published.
PANEL_PAGES = frozenset(
    {"article", "fix", "draft_preview", "admin:helpcenter_article_page_preview"}
)


def origins_of(targets: Iterable[Target]) -> list[str]:
    """Sorted, distinct scheme://host[:port] of each target's browser URL (http(s) only)."""
    origins = set()
    for target in targets:
        parts = urlsplit(target.get_browser_url())
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def browser_targets() -> list[Target]:
    return list(Target.objects.filter(enabled=True, browser_check=True))


class _Memo:
    """The last origins read, per process, with when they were read.

    Per process on purpose: the list is derived data with a short lifetime, so
    each process may hold its own copy; keeping it out of the shared cache
    saves a cache round trip (a database query on the embedded default) on
    every article view.
    """

    lock = threading.Lock()
    origins: list[str] | None = None
    read_at = 0.0


def forget_origins() -> None:
    """Drop the remembered list (tests, and anything that must see an edit at once)."""
    with _Memo.lock:
        _Memo.origins = None


def cached_origins() -> list[str]:
    """The origins, remembered for CACHE_SECONDS; [] (just 'self') when the database fails.

    Failing open: an article page must render even with the database down; its
    browser checks then stay within 'self' and are reported as skipped, never
    as the visitor's failure.
    """
    now = time.monotonic()
    with _Memo.lock:
        if _Memo.origins is not None and now - _Memo.read_at < CACHE_SECONDS:
            return list(_Memo.origins)
    try:
        origins = origins_of(browser_targets())
    except DatabaseError:
        log.warning("browser-check origins: database unavailable; connect-src stays 'self'")
        return []
    with _Memo.lock:
        _Memo.origins, _Memo.read_at = origins, now
    return list(origins)


def with_connect_src(response: HttpResponse, origins: Iterable[str]) -> HttpResponse:
    """Set this response's CSP to the site's, with ``origins`` added to connect-src."""
    site: dict[str, Any] = settings.SECURE_CSP
    config = {key: list(value) for key, value in site.items()}
    config["connect-src"] = [*config.get("connect-src", []), *origins]
    response._csp_config = config  # type: ignore[attr-defined]  # read by Django's CSP middleware
    return response


class BrowserChecksCSPMiddleware:
    """Adds the browser-check origins to the article and fix pages' connect-src.

    Listed after django.middleware.csp.ContentSecurityPolicyMiddleware, so its
    response pass runs first and the CSP middleware writes the header from
    the config set here. A view that set its own CSP is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if (
            match is not None
            and match.view_name in PANEL_PAGES
            and not hasattr(response, "_csp_config")
        ):
            with_connect_src(response, cached_origins())
        return response
