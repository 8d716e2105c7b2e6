"""Site search: one interface, two backends chosen by the database vendor.

``search(query)`` returns ``Results``: ranked ``SearchHit``s over published
articles, their fixes and FAQ, the corrected query when spelling changed a
word, and whether the hits have only most of the words. Each article and
each fix is one search document, rewritten on save by the signal handlers
(``signals``), so a query never touches article bodies:

- PostgreSQL: ``SearchDocument`` rows with a generated, weighted tsvector
  (title A, summary and FAQ questions B, body and FAQ answers C) under a GIN
  index, queried with phrase queries joined by & and | and ranked by ``ts_rank``.
- SQLite: an FTS5 table with the porter tokenizer (English stems, like
  PostgreSQL's), ranked by bm25 with the same column emphasis.

On both, the query becomes a plan (``plan``): slots of alternative phrases
from the editors' synonym sets, words typed apart or together, and spelling
corrections (candidates from pg_trgm on PostgreSQL, from first- and
second-letter range scans on SQLite). A title hit ranks above a body-only
hit, and ``ranking`` puts a page whose title is nearly the query, or names
the error code typed, first. When no page has every word, pages with most of
them are shown, those with more first. ``relevance`` scores a set of real
queries (bench/search_relevance.yml) for the tests and the benchmark.

One job per module: ``query`` cleans the visitor's text, ``spelling``
corrects words, ``plan`` builds the slots, ``ranking`` re-ranks,
``documents`` builds what is indexed, ``snippets`` turns matches into hits,
``postgres`` and ``sqlite`` are the backends (``backends`` picks one),
``signals`` keeps the index current, ``services`` finds the services a query
names (their pages get a card above the hits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, groupby

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from helpcenter.models import Article, SearchMiss, SeededRow, Service
from helpcenter.search.backends import backend_for
from helpcenter.search.base import Backend
from helpcenter.search.documents import Match, article_document, chunks, fix_document
from helpcenter.search.plan import Plan, build_plan
from helpcenter.search.query import MAX_QUERY_CHARS, normalise_query, query_words
from helpcenter.search.ranking import rerank
from helpcenter.search.services import services_named
from helpcenter.search.signals import connect_signals
from helpcenter.search.snippets import SearchHit, hits
from helpcenter.search.spelling import correct_words

# Queries spent looking for pages with most of the words (see _most_slots).
MAX_PARTIAL_QUERIES = 12

__all__ = [
    "MAX_QUERY_CHARS",
    "Results",
    "SearchHit",
    "connect_signals",
    "correct_words",
    "normalise_query",
    "rebuild",
    "rebuild_if_outdated",
    "record_miss",
    "search",
]


@dataclass(frozen=True)
class Results:
    hits: list[SearchHit]
    # The query as searched after spelling corrections, when any word was corrected.
    corrected: str | None = None
    # No page had every word: these have most of them.
    partial: bool = False
    # Services the query names: their pages are shown above the hits.
    services: list[Service] = field(default_factory=list)


def search(query: str, limit: int = 20, *, correct: bool = True) -> Results:
    """Ranked hits for ``query``; ``correct=False`` searches the words exactly as typed."""
    words = query_words(query)
    if not words:
        return Results(hits=[])
    services = services_named(words)
    backend = backend_for()
    plan = build_plan(words, backend, correct=correct)
    if not plan.slots:
        return Results(hits=[], services=services)
    matches = rerank(backend.match(plan.slots, limit, plan.prefix_last), plan)
    partial = False
    if not matches and len(plan.slots) > 1:
        matches = _most_slots(plan, backend, limit)
        partial = bool(matches)
    marked = sorted({w for slot in plan.slots for phrase in slot for w in phrase})
    corrected = " ".join(plan.corrections.get(w, w) for w in words) if plan.corrections else None
    return Results(
        hits=hits(matches, marked), corrected=corrected, partial=partial, services=services
    )


def _most_slots(plan: Plan, backend: Backend, limit: int) -> list[Match]:
    """Pages matching most of the slots, those matching more first (none matched them all).

    Tries combinations of one slot fewer, then two fewer, ... within a
    budget of queries, so a long query stays cheap, and stops as soon as the
    page is full: each combination costs two or three queries, and trying
    all of them for "cookies zebra quartz" took 60-90 ms on PostgreSQL.
    Combinations holding a word the index does not know (no indexed word is
    it or starts with it: it can match only through a stem, seldom) come
    after all the others, so "cookies zebra", "cookies" and "zebra" are
    tried before anything with "quartz".
    """
    found: dict[tuple[int, int | None], Match] = {}
    ranked: list[Match] = []
    budget = MAX_PARTIAL_QUERIES
    last = len(plan.slots) - 1
    doubtful = {
        i
        for i, slot in enumerate(plan.slots)
        if all(any(w in plan.unknown for w in phrase) for phrase in slot)
    }
    tries = [
        chosen
        for size in range(len(plan.slots) - 1, 0, -1)
        for chosen in combinations(range(len(plan.slots)), size)
    ]
    # Stable: sizes stay in decreasing order within each level of doubt.
    tries.sort(key=lambda chosen: len(doubtful.intersection(chosen)))
    for _, same in groupby(
        tries, key=lambda chosen: (len(doubtful.intersection(chosen)), len(chosen))
    ):
        group: list[Match] = []
        for chosen in same:
            if budget == 0 or len(ranked) + len(group) >= limit:
                break
            budget -= 1
            slots = [plan.slots[i] for i in chosen]
            prefix = plan.prefix_last and chosen[-1] == last
            for match in backend.match(slots, limit, prefix):
                key = (match.article_id, match.fix_id)
                if key not in found:
                    found[key] = match
                    group.append(match)
        ranked += rerank(group, plan)
        if len(ranked) >= limit or budget == 0:
            break
    return ranked[:limit]


def record_miss(query: str) -> None:
    """Count a query that found nothing (text only: nothing about who asked)."""
    text = normalise_query(query)
    if not text:
        return
    now = timezone.now()
    if SearchMiss.objects.filter(query=text).update(count=F("count") + 1, last_seen=now):
        return
    try:
        with transaction.atomic():
            SearchMiss.objects.create(query=text, count=1, last_seen=now)
    except IntegrityError:  # another request created it between our two statements
        SearchMiss.objects.filter(query=text).update(count=F("count") + 1, last_seen=now)


# Raised when what is indexed changes shape (1 -> 2: section "#" links left out
# of the plain text), so setup re-indexes existing sites once.
INDEX_FORMAT = "2"


def rebuild_if_outdated() -> int | None:
    """Re-index when the stored index was built by an older format; the count, or None."""
    stamp = SeededRow.objects.filter(kind="search-index", key="format").first()
    if stamp is not None and stamp.digest == INDEX_FORMAT:
        return None
    count = rebuild()
    SeededRow.objects.update_or_create(
        kind="search-index", key="format", defaults={"digest": INDEX_FORMAT}
    )
    return count


def rebuild(batch: int = 500) -> int:
    """Index every article and fix again (after a bulk import or a raw SQL change)."""
    backend = backend_for()
    count = 0
    with transaction.atomic():
        backend.clear()
        articles = Article.objects.order_by("pk").prefetch_related("faq", "fixes")
        for chunk in chunks(list(articles.values_list("pk", flat=True)), batch):
            documents = []
            for article in articles.filter(pk__in=chunk):
                documents.append(article_document(article))
                documents.extend(fix_document(fix) for fix in article.fixes.all())
            backend.store_many(documents)
            count += len(documents)
    return count
