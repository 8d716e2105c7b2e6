"""Site search: one interface, two backends chosen by the database vendor.

``search(query)`` returns ranked ``SearchHit``s over published articles, their
fixes and FAQ. Each article and each fix is one search document, rewritten on
save by the signal handlers below, so a query never touches article bodies:

- PostgreSQL: ``SearchDocument`` rows with a generated, weighted tsvector
  (title A, summary and FAQ questions B, body and FAQ answers C) under a GIN
  index, queried with ``websearch_to_tsquery`` and ranked by ``ts_rank``.
- SQLite: an FTS5 table with the porter tokenizer (English stems, like
  PostgreSQL's), ranked by bm25 with the same column emphasis.

On both, a title hit (article or fix title) ranks above any body-only hit,
and a query word that is not in the indexed vocabulary is replaced by its
closest known word when that is very close ("cokies" -> "cookies"); the
candidates come from pg_trgm on PostgreSQL and from a same-first-letter scan
on SQLite (so a typo in the first letter is not corrected there).

One job per module: ``query`` cleans the visitor's text, ``spelling``
corrects words, ``documents`` builds what is indexed, ``snippets`` turns
matches into hits, ``postgres`` and ``sqlite`` are the backends
(``backends`` picks one), ``signals`` keeps the index current.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from helpcenter.models import Article, SearchMiss
from helpcenter.search.backends import backend_for
from helpcenter.search.documents import article_document, chunks, fix_document
from helpcenter.search.query import MAX_QUERY_CHARS, normalise_query, query_words
from helpcenter.search.signals import connect_signals
from helpcenter.search.snippets import SearchHit, hits
from helpcenter.search.spelling import correct_words

__all__ = [
    "MAX_QUERY_CHARS",
    "SearchHit",
    "connect_signals",
    "correct_words",
    "normalise_query",
    "rebuild",
    "record_miss",
    "search",
]


def search(query: str, limit: int = 20) -> list[SearchHit]:
    words = query_words(query)
    if not words:
        return []
    backend = backend_for()
    # One query tells, for every word, whether it is indexed exactly and
    # whether some indexed word starts with it (each was a query before).
    vocabulary = backend.lookup(words)
    words = correct_words(words, backend, vocabulary)
    last = words[-1]
    exact = vocabulary[last][0] if last in vocabulary else backend.is_exact(last)
    matches = backend.match(words, limit, last_is_word=exact)
    return hits(matches, words)


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
