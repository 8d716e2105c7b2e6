"""connect-src for the browser-side checks: exactly the enabled browser-check targets' origins.

The report views add them per response; BrowserChecksCSPMiddleware adds them to
the cached article and fix pages, whose panel arrives by htmx and runs the same
checks. Those pages are shared by every visitor, so the list is the same for
everyone (no per-visitor CSP) and is read through a short cache.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from diagnostics.models import Target

log = logging.getLogger(__name__)

CACHE_KEY = "diagnostics:browser-check-origins:v1"
# An admin's edit reaches the article pages' CSP within this long.
CACHE_SECONDS = 60
# Views (by URL name) whose pages embed the panel.
PANEL_PAGES = frozenset({"article", "fix"})


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


def cached_origins() -> list[str]:
    """The origins, from the cache when it has them; [] (just 'self') when all else fails.

    Failing open: an article page must render even with the cache and the
    database down; its browser checks then stay within 'self' and are reported
    as skipped, never as the visitor's failure.
    """
    try:
        cached = cache.get(CACHE_KEY)
    except Exception:  # any cache backend error: Redis down, table missing
        log.warning("browser-check origins: cache unavailable, reading the database")
        cached = None
    if isinstance(cached, list):
        return [str(origin) for origin in cached]
    try:
        origins = origins_of(browser_targets())
    except DatabaseError:
        log.warning("browser-check origins: database unavailable; connect-src stays 'self'")
        return []
    # A failing cache was logged above; the page still gets its origins.
    with contextlib.suppress(Exception):
        cache.set(CACHE_KEY, origins, CACHE_SECONDS)
    return origins


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
