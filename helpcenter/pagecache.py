"""Rendered public pages kept server-side until the content changes (issue 3).

The article, fix, home and category pages are the same bytes for every reader,
so the first request renders one and later ones replay it: body, status and the
headers the view set (Cache-Control, ETag, Last-Modified, Content-Type). The
middleware still runs on every replay, so the CSP with the browser-check
connect-src, X-Frame-Options and the rest are added exactly as for a fresh
render. Conditional GETs are answered 304 from the stored validators without
calling the view.

Two layers: a small per-process LRU in front of Django's cache (Redis in
production, the database cache on the embedded default). Both are keyed by a
*tag* read from the shared cache (one round trip) and then trusted by the
process for PAGE_CACHE_TAG_SECONDS (default 1 s): that round trip was the
largest part of a hit, and a second of delay before another process sees an
edit is far less than the shared caches in front of the site already allow
(nginx keeps pages 10 s). The process that saves sees its edit at once. The tag is:

- the release: a digest of the templates and the static manifest, read once
  per process, so pages stored before a deploy are not replayed after it;
- the content generation, a random token that every save or delete of an
  article, fix, FAQ entry, category, slug redirect or related-articles link
  replaces (signals, below), so an edit shows in every process within the
  tag's lifetime;
- the next scheduled publication time. A scheduled article must appear when its
  time comes, with no save to announce it, so a page never outlives the
  earliest future ``published_at``: once that moment passes, the first request
  looks up the next one, the tag changes and every page renders afresh. The
  lookup is repeated every RECHECK_SECONDS anyway, which catches schedules
  changed by ``QuerySet.update()`` (no signals) within that time.

Anything else written behind the ORM's back (other ``update()``s, raw SQL) is
seen after LIFETIME_SECONDS at most. Pages rendered inside a transaction are
neither served from nor stored in the cache: they may show data that is never
committed (and tests, which run inside one, see the uncached path).

A cache that fails (Redis down) means rendering every request, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

log = logging.getLogger(__name__)

GENERATION_KEY = "pagecache:generation"
SCHEDULE_KEY = "pagecache:schedule"
# Backstop for writes that send no signal; pages are otherwise kept until an edit.
LIFETIME_SECONDS = 600
# How often the next publication time is looked up even when it has not passed.
RECHECK_SECONDS = 60
# Per-process layer: a few MB keeps every page of a typical help center in each worker.
LOCAL_BYTES = 4 * 1024 * 1024

View = Callable[..., HttpResponseBase]


class _Complaints:
    """When this process last logged a cache failure: once a minute, not once a request."""

    last = 0.0


def _warn(message: str, *args: Any) -> None:
    clock = time.monotonic()
    if clock - _Complaints.last >= 60:
        _Complaints.last = clock
        log.warning(message, *args, exc_info=True)


def now() -> float:
    """The page cache's clock (epoch seconds); tests move it to simulate time passing."""
    return time.time()


# --- the tag: content generation + next publication -----------------------------


@dataclass(frozen=True)
class State:
    generation: str
    next_publication: float | None  # epoch seconds; None: nothing is scheduled

    @property
    def tag(self) -> str:
        return f"{release()}/{self.generation}/{self.next_publication}"


@functools.cache
def release() -> str:
    """What this process renders with: a digest of its templates and static manifest.

    Stored pages outlive a deploy (Redis keeps them up to LIFETIME_SECONDS), but
    a page rendered by the old release may have the old markup and link to
    hashed static files the new release no longer ships. Processes of a new
    release get a new tag, so they render afresh instead of replaying those.
    Read once per process: the files only change with a deploy and a restart.
    """
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.template import engines

    digest = hashlib.blake2b(digest_size=8)
    for engine in engines.all():
        for folder in map(Path, engine.template_dirs):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(path.read_bytes())
    read_manifest = getattr(staticfiles_storage, "read_manifest", None)  # DEBUG has none
    if read_manifest is not None:
        digest.update((read_manifest() or "").encode())
    return digest.hexdigest()


def _next_publication(at: float) -> float | None:
    from helpcenter.models import Article

    moment = datetime.fromtimestamp(at, UTC)
    first = Article.objects.filter(
        status=Article.Status.PUBLISHED, published_at__gt=moment
    ).aggregate(first=Min("published_at"))["first"]
    return first.timestamp() if first is not None else None


class _Trusted:
    """The tag this process last read, and until when it may use it without asking."""

    state: State | None = None
    until = 0.0


def current_state() -> State:
    """The tag's parts: this process's recent copy, or one cache round trip.

    Raises whatever the cache backend raises; the caller falls back to rendering.
    """
    clock = now()
    state = _Trusted.state
    if (
        state is not None
        and clock < _Trusted.until
        and (state.next_publication is None or clock < state.next_publication)
    ):
        return state
    state = _read_state(clock)
    _Trusted.state, _Trusted.until = state, clock + settings.PAGE_CACHE_TAG_SECONDS
    return state


def _read_state(clock: float) -> State:
    """The tag's parts, from one cache round trip (plus a query when the schedule is due)."""
    found = cache.get_many([GENERATION_KEY, SCHEDULE_KEY])
    generation = found.get(GENERATION_KEY)
    if generation is None:
        # A fresh or flushed cache. A random token, never a counter from 1, so a
        # process still holding pages from before the flush cannot match it.
        cache.add(GENERATION_KEY, secrets.token_hex(8), None)
        generation = cache.get(GENERATION_KEY)
        if generation is None:  # evicted in between: do not cache this request
            raise RuntimeError("page cache generation unavailable")
    schedule = found.get(SCHEDULE_KEY)  # (next publication, when it was looked up)
    if (
        schedule is None
        or clock - schedule[1] >= RECHECK_SECONDS
        or (schedule[0] is not None and clock >= schedule[0])
    ):
        # Every process that sees it due computes the same answer, so they
        # agree on the tag without coordinating. Only readers write this key
        # besides bump() deleting it, so it never overwrites a new generation.
        schedule = (_next_publication(clock), clock)
        cache.set(SCHEDULE_KEY, schedule, None)
    return State(str(generation), schedule[0])


def bump(*, warn: bool = True) -> None:
    """Retire every stored page: a new generation, and the schedule looked up again."""
    try:
        cache.set(GENERATION_KEY, secrets.token_hex(8), None)
        cache.delete(SCHEDULE_KEY)
    except Exception:  # a save must not fail because the cache is down
        if warn:
            _warn(
                "page cache: could not record an edit; pages may lag up to %s s", LIFETIME_SECONDS
            )
    _Trusted.state = None
    _Local.clear()


def content_changed(**kwargs: Any) -> None:
    """Signal receiver for every change that can alter a cached page."""
    if kwargs.get("action", "post_").startswith("pre_"):  # m2m_changed sends pre and post
        return
    bump()
    if connection.in_atomic_block:
        # The bump above retires pages at once, but until the commit other
        # processes still read the old rows and could store them under the new
        # generation; a second bump after the commit retires those too.
        transaction.on_commit(bump)


def database_reset(**kwargs: Any) -> None:
    """After migrate or flush: rows may have changed without a save signal.

    No warning when the cache cannot be written: on a new database `migrate`
    runs before `createcachetable` (Django's test setup does it in that order),
    and a cache table that does not exist yet holds no page to retire.
    """
    bump(warn=False)


def connect_signals() -> None:
    from helpcenter.models import Article, Category, FaqEntry, Fix, SlugRedirect

    for model in (Article, Fix, FaqEntry, Category, SlugRedirect):
        uid = f"pagecache.{model.__name__}"
        post_save.connect(content_changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"{uid}.delete")
    through = Article.related.through
    m2m_changed.connect(content_changed, sender=through, dispatch_uid="pagecache.related")
    # A database flush (test teardown, `manage.py flush`) sends no delete signals.
    post_migrate.connect(database_reset, dispatch_uid="pagecache.migrate")
    setting_changed.connect(_settings_changed, dispatch_uid="pagecache.settings")


def _settings_changed(setting: str, **kwargs: Any) -> None:
    """Tests that swap settings: forget what was worked out once per process from them."""
    if setting == "ROOT_URLCONF":
        _marked.cache_clear()  # which paths are pages
    if setting in {"TEMPLATES", "STATIC_ROOT", "STORAGES"}:
        release.cache_clear()


# --- stored pages -----------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    tag: str
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    etag: str | None
    last_modified: int | None
    expires: float

    @classmethod
    def of(cls, response: HttpResponse, tag: str) -> Page:
        modified = response.get("Last-Modified")
        return cls(
            tag=tag,
            status=response.status_code,
            headers=tuple(response.items()),
            content=response.content,
            etag=response.get("ETag"),
            last_modified=parse_http_date_safe(modified) if modified else None,
            expires=now() + LIFETIME_SECONDS,
        )

    def respond(self, request: HttpRequest) -> HttpResponseBase:
        response = HttpResponse(self.content, status=self.status)
        for name, value in self.headers:
            response[name] = value
        # What @condition would answer, from the stored validators: 304 (with the
        # same Cache-Control, ETag and Last-Modified), 412, or the page itself.
        answer = get_conditional_response(
            request, etag=self.etag, last_modified=self.last_modified, response=response
        )
        return answer or response


def storable(response: HttpResponseBase) -> bool:
    """Only complete, public, cookie-free 200s are the same for every reader."""
    return (
        isinstance(response, HttpResponse)
        and response.status_code == 200
        and not response.cookies
        and "public" in response.get("Cache-Control", "")
        and "cookie" not in response.get("Vary", "").lower()
    )


class _Local:
    """This process's copy of recently served pages, least recently used dropped first."""

    lock = threading.Lock()
    pages: OrderedDict[str, Page] = OrderedDict()
    size = 0

    @classmethod
    def get(cls, path: str, tag: str) -> Page | None:
        with cls.lock:
            page = cls.pages.get(path)
            if page is None or page.tag != tag or page.expires <= now():
                return None
            cls.pages.move_to_end(path)
            return page

    @classmethod
    def put(cls, path: str, page: Page) -> None:
        if len(page.content) > LOCAL_BYTES // 4:
            return
        with cls.lock:
            old = cls.pages.pop(path, None)
            if old is not None:
                cls.size -= len(old.content)
            cls.pages[path] = page
            cls.size += len(page.content)
            while cls.size > LOCAL_BYTES:
                _, dropped = cls.pages.popitem(last=False)
                cls.size -= len(dropped.content)

    @classmethod
    def clear(cls) -> None:
        with cls.lock:
            cls.pages.clear()
            cls.size = 0


def _shared_key(path: str, tag: str) -> str:
    digest = hashlib.blake2b(f"{path}\n{tag}".encode(), digest_size=16).hexdigest()
    return f"pagecache:page:{digest}"


def _shared_get(path: str, tag: str) -> Page | None:
    try:
        page = cache.get(_shared_key(path, tag))
    except Exception:
        _warn("page cache: read failed; rendering")
        return None
    if not isinstance(page, Page) or page.tag != tag or page.expires <= now():
        return None
    return page


def _shared_put(path: str, page: Page) -> None:
    try:
        cache.set(_shared_key(path, page.tag), page, LIFETIME_SECONDS)
    except Exception:
        _warn("page cache: write failed")


def clear() -> None:
    """Forget every stored page, in every process (tests; after changes made behind the ORM)."""
    bump()


# --- the decorator and the middleware ------------------------------------------------


def cached_page(view: View) -> View:
    """Let PageCacheMiddleware store and replay ``view``'s public 200s, keyed by path.

    The views it marks must not depend on the query string or on anything about
    the visitor. Decorators applied outside this one copy the mark (functools.wraps).
    """
    view.page_cache = True  # type: ignore[attr-defined]
    return view


@functools.lru_cache(maxsize=2048)
def _marked(path: str, urlconf: str | None) -> ResolverMatch | None:
    """The URL match of a page the cache may serve; None for every other path."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return match if getattr(match.func, "page_cache", False) else None


class PageCacheMiddleware:
    """Answer marked pages from the cache before the rest of the middleware runs.

    It sits after the security, whitenoise, CSP, common and X-Frame-Options
    middleware (their headers are added to every replay, so a changed
    connect-src applies at once) and before sessions, CSRF, auth, messages and
    htmx: a hit needs none of them, and skipping them is most of what a hit
    would otherwise cost. What those inner layers add
    to a response is stored with it, and ``storable`` refuses anything they made
    visitor-specific (a cookie, ``Vary: Cookie``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        match = None
        if (
            request.method in ("GET", "HEAD")
            and settings.PAGE_CACHE
            and not connection.in_atomic_block
        ):
            # (Inside a transaction a page may show rows that are never committed.)
            match = _marked(request.path_info, getattr(request, "urlconf", None))
        if match is None:
            return self.get_response(request)
        try:
            tag = current_state().tag
        except Exception:
            _warn("page cache unavailable; rendering")
            return self.get_response(request)
        path = request.path
        page = _Local.get(path, tag)
        if page is None:
            page = _shared_get(path, tag)
            if page is not None:
                _Local.put(path, page)
        if page is not None:
            # What the URL resolver would have set; the outer middleware reads it.
            request.resolver_match = match
            return page.respond(request)
        response = self.get_response(request)
        if request.method == "GET" and storable(response):
            assert isinstance(response, HttpResponse)
            page = Page.of(response, tag)
            _Local.put(path, page)
            _shared_put(path, page)
        return response
