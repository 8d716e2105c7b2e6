"""A run's change mark in the cache: a poll for a run in flight answered without the database.

While a run is in flight its panel polls the report. Most polls find nothing
new, and rendering the report to say so costs several queries and a sync web
worker's time. Instead, each render puts a token in the cache (the run's mark)
and in the poll URL; everything that changes what the report shows deletes the
mark (marks.changed). A poll whose token is still the mark is answered "204, no
change" from the cache alone (Redis in production; the embedded default's
database cache costs one query, which is fine there).

The mark is read before the run's rows, so a change that lands during a render
either is in that render or deletes the mark it handed out: a 204 never hides one.
The mark also keeps the run's creation time, so a poll past CHECKS_DELAYED_AFTER
falls through to a render, which tells the visitor the checks are delayed.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def _key(run_id: Any) -> str:
    return f"checks:mark:{run_id}"


def _ttl() -> int:
    # Only a run in flight is polled; past the delayed deadline renders take over.
    return int(settings.CHECKS_DELAYED_AFTER) + 60


def current(run_id: Any, created_at: datetime) -> str:
    """The run's token, made now if it has none. Call before reading the run's rows."""
    try:
        mark = {"token": secrets.token_urlsafe(9), "created": created_at.timestamp()}
        cache.add(_key(run_id), mark, timeout=_ttl())
        stored = cache.get(_key(run_id))
    except Exception:
        log.warning("could not read the mark of run %s", run_id, exc_info=True)
        return ""
    return str(stored["token"]) if stored else ""


def unchanged(run_id: Any, seen: str) -> bool:
    """True when nothing the report shows changed since the render that handed out ``seen``."""
    if not seen:
        return False
    try:
        mark = cache.get(_key(run_id))
    except Exception:
        return False  # the render path decides what to show
    if not mark or mark["token"] != seen:
        return False
    return time.time() - mark["created"] <= settings.CHECKS_DELAYED_AFTER


def changed(run_ids: Iterable[Any]) -> None:
    """Something these runs' reports show has changed: the next poll renders again."""
    keys = [_key(run_id) for run_id in run_ids]
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except Exception:
        # Polls then see no change until the delayed deadline, when they render.
        log.warning("could not clear the marks of %d runs", len(keys), exc_info=True)
