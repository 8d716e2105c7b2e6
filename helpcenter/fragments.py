"""Parts of a page kept in the cache by the revision of what they show (issue 15, point 5).

The page cache (pagecache.py) keeps whole pages under one tag that every edit
replaces, so one edit anywhere makes every article page render afresh. The
costly parts of an article page (the body, fixes, FAQ, related guides and the
structured data: four queries and most of the template time) depend only on
that article's own revision, which its validators already compute in one
query. Kept here by that revision, they survive edits to other pages; only the
frame around them (title, breadcrumbs, header) is rendered on a miss.

A cache that fails means rendering, never an error (the page must not need Redis).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.core.cache import cache
from django.utils.safestring import SafeString

from helpcenter import pagecache

log = logging.getLogger(__name__)

# A backstop for writes that send no signal, as for whole pages.
LIFETIME_SECONDS = pagecache.LIFETIME_SECONDS

Render = Callable[[], SafeString]


def revision_key(*parts: object) -> str | None:
    """A key for fragments showing exactly ``parts``, or None when it cannot be trusted.

    The release (templates and static files) and the next scheduled publication
    are part of it, as of the page cache's tag: a related guide coming due must
    appear without an edit.
    """
    try:
        state = pagecache.current_state()
    except Exception:
        return None
    text = "\0".join(map(str, (pagecache.release(), state.next_publication, *parts)))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def cached(revision: str | None, renders: dict[str, Render]) -> dict[str, SafeString]:
    """Each named fragment from the cache, or rendered (and stored) when missing.

    One cache round trip for all of them; rendered HTML is a SafeString, and the
    cache keeps its type.
    """
    if revision is None:
        return {name: render() for name, render in renders.items()}
    keys = {name: f"fragment:{name}:{revision}" for name in renders}
    try:
        found = cache.get_many(list(keys.values()))
    except Exception:
        log.warning("fragment cache unavailable; rendering", exc_info=True)
        return {name: render() for name, render in renders.items()}
    fragments: dict[str, SafeString] = {}
    missing: dict[str, SafeString] = {}
    for name, render in renders.items():
        stored = found.get(keys[name])
        if isinstance(stored, SafeString):
            fragments[name] = stored
        else:
            fragments[name] = missing[keys[name]] = render()
    if missing:
        try:
            cache.set_many(missing, LIFETIME_SECONDS)
        except Exception:
            log.warning("could not store fragments", exc_info=True)
    return fragments
