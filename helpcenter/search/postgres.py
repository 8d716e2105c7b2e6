"""PostgreSQL backend: weighted tsvectors under GIN, pg_trgm for spelling candidates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchQueryField, SearchRank
from django.db import connection
from django.db.models import BooleanField, F, Func
from django.db.models.expressions import RawSQL
from django.utils import timezone

from helpcenter.models import Article, Fix, SearchDocument, SearchTerm
from helpcenter.search.base import Backend, Slot
from helpcenter.search.documents import Document, Match, chunks, vocabulary

# Documents holding every word that the body tier checks for phrases (see match()).
BODY_CANDIDATES = 200
# What a hit never reads: the tsvectors (as large as the text they index, read
# and parsed for nothing: 10-20 ms of a page of 20) and the pages' own bodies
# (the snippet comes from the document's plain text).
UNREAD = (
    "vector",
    "head",
    "article__body",
    "article__body_html",
    "article__headings",
    "fix__body",
    "fix__body_html",
)


def _slot_query(slot: Slot, search_type: str = "phrase") -> SearchQuery:
    """Any of the slot's phrases; a phrase's words adjacent and in order ("turn off").

    ``search_type="plain"`` asks only that a phrase's words all appear: the GIN
    index answers that exactly, where a phrase needs every candidate row's
    vector read again to check positions.
    """
    query = SearchQuery(" ".join(slot[0]), search_type=search_type, config="english")
    for phrase in slot[1:]:
        query |= SearchQuery(" ".join(phrase), search_type=search_type, config="english")
    return query


class _TitlesOnly(Func):
    """The query with every lexeme restricted to weight A (titles).

    From the query's text form, where lexemes are quoted ('' inside):
    'captcha' becomes 'captcha':A, a prefix 'quartz':* becomes 'quartz':*A.
    """

    template = (
        "regexp_replace((%(expressions)s)::text, "
        r"'(''(?:[^'']|'''')*'')(?::(\*))?', '\1:\2A', 'g')::tsquery"
    )
    output_field = SearchQueryField()


class _Matches(Func):
    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _joined(parts: Sequence[SearchQuery]) -> SearchQuery:
    query = parts[0]
    for part in parts[1:]:
        query &= part
    return query


class PostgresBackend(Backend):
    def store(self, document: Document) -> None:
        rows = (
            SearchDocument.objects.filter(article_id=document.article_id, fix=None)
            if document.fix_id is None
            else SearchDocument.objects.filter(fix_id=document.fix_id)
        )
        text = (document.title, document.summary, document.body)
        stored = rows.values_list("article_id", "title", "summary", "body").first()
        if stored is None:
            SearchDocument.objects.update_or_create(
                article_id=document.article_id,
                fix=None if document.fix_id is None else Fix(pk=document.fix_id),
                defaults=dict(zip(("title", "summary", "body"), text, strict=True)),
            )
            self.add_words(vocabulary(document))
            return
        if stored == (document.article_id, *text):
            # A save that changed nothing indexed (status, order, a fix's
            # "did it work" setting): no new vectors, no GIN update.
            return
        # update(), not save(): save() reads both generated vectors back (RETURNING),
        # 30 KB of tsvector text per save parsed for nothing.
        rows.update(article_id=document.article_id, title=text[0], summary=text[1], body=text[2])
        # Only the words the old text lacked: the old ones went into the vocabulary
        # with it (it is only ever added to). Offering a 30 KB article's ~3,000
        # words again cost 10-20 ms of ON CONFLICT probes per save.
        old = Document(document.article_id, document.fix_id, *stored[1:])
        self.add_words(vocabulary(document) - vocabulary(old))

    def store_many(self, documents: Sequence[Document]) -> None:
        SearchDocument.objects.bulk_create(
            [
                SearchDocument(
                    article_id=d.article_id,
                    fix_id=d.fix_id,
                    title=d.title,
                    summary=d.summary,
                    body=d.body,
                )
                for d in documents
            ],
            batch_size=500,
        )
        self.add_words(set().union(*(vocabulary(d) for d in documents)))

    @staticmethod
    def add_words(words: set[str]) -> None:
        if not words:
            return
        # ON CONFLICT DO NOTHING alone: a known word stops at the unique index, before
        # the trigram index is touched. Reading the known words first (word IN (...)
        # of 2,000) let the planner pick the trigram index for the equality, which
        # took seconds per save on a growing vocabulary. One array parameter, no
        # model instances: building 1,000 SearchTerm objects cost more than the insert.
        with connection.cursor() as cursor:
            for chunk in chunks(sorted(words), 2000):
                cursor.execute(
                    f"INSERT INTO {SearchTerm._meta.db_table} (word) "
                    "SELECT unnest(%s::varchar[]) ON CONFLICT DO NOTHING",
                    [list(chunk)],
                )

    def delete(self, article_id: int | None = None, fix_id: int | None = None) -> None:
        if fix_id is not None:
            SearchDocument.objects.filter(fix_id=fix_id).delete()
        elif article_id is not None:
            SearchDocument.objects.filter(article_id=article_id).delete()

    def clear(self) -> None:
        SearchDocument.objects.all().delete()

    def is_exact(self, word: str) -> bool:
        return SearchTerm.objects.filter(word=word).exists()

    def lookup(self, words: Sequence[str]) -> dict[str, tuple[bool, bool]]:
        unique = sorted(set(words))
        with connection.cursor() as cursor:
            # A prefix as a byte-wise range (~>=~ and ~<~, the varchar_pattern_ops
            # index Django makes for a unique CharField): starts_with() could use
            # no index and read all 20,000 words per query word (10-50 ms).
            cursor.execute(
                f"SELECT w, EXISTS (SELECT 1 FROM {SearchTerm._meta.db_table} WHERE word = w), "  # noqa: S608
                f"EXISTS (SELECT 1 FROM {SearchTerm._meta.db_table} "
                "WHERE word ~>=~ w AND word ~<~ (w || chr(1114111))) "
                "FROM unnest(%s::text[]) AS w",
                [unique],
            )
            return {w: (exact, known) for w, exact, known in cursor.fetchall()}

    def candidates(self, word: str) -> list[str]:
        # "%" is pg_trgm's similarity operator: it uses the trigram GIN index.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word FROM {SearchTerm._meta.db_table} WHERE word %% %s "  # noqa: S608
                "ORDER BY similarity(word, %s) DESC LIMIT 10",
                [word, word],
            )
            return [row[0] for row in cursor.fetchall()]

    def match(self, slots: Sequence[Slot], limit: int, prefix_last: bool = False) -> list[Match]:
        if not slots:
            return []
        parts = [_slot_query(slot) for slot in slots]
        loose = [_slot_query(slot, "plain") for slot in slots]
        last = slots[-1][0][0]
        if prefix_last and len(last) >= 3:
            # A half-typed last word (instant search): match it as a prefix.
            parts[-1] = loose[-1] = SearchQuery(f"{last}:*", search_type="raw", config="english")
        query = _joined(parts)
        now = timezone.now()
        published = SearchDocument.objects.filter(
            article__status=Article.Status.PUBLISHED, article__published_at__lte=now
        )
        # Two tiers. First the documents whose title or summary (the small
        # "head" vector, GIN-indexed) match, ranked: titles first. Only when
        # they do not fill the page, body-only matches (their head rank was 0
        # anyway). Ranking every match of a common word (thousands of rows)
        # was most of the old cost.
        scored = self._ranked_heads(query, limit, published)
        if len(scored) < limit:
            # The body tier fills the page, in storage order, from the first
            # BODY_CANDIDATES documents that hold every word (the GIN index
            # answers that exactly); only those are checked for phrases. A
            # phrase check reads each candidate's whole vector again: over all
            # documents holding "too", "many" and "requests" apart (3,000 of
            # 40,000) that took 170 ms, and "ORDER BY id" made PostgreSQL read
            # every row's vector for a rare word (250 ms). Fill, not ranking:
            # a body-only match past the first candidates is not shown.
            holding = (
                SearchDocument.objects.filter(vector=_joined(loose))
                .exclude(head=query)  # shown above already; heads are small to check
                .order_by()
                .values("id")
            )
            inner, params = holding.query.sql_with_params()
            # A MATERIALIZED CTE is planned for all its rows, so the GIN index
            # finds them, and read only as far as the LIMIT needs. With the LIMIT
            # in plain sight the planner chose a sequential scan, expecting 200
            # hits early: for "firewall rule blocked" it read 3,300 vectors
            # (50 ms) to find 19.
            # Safe: ``inner`` is SQL the ORM compiled; every value stays a parameter.
            candidates = RawSQL(  # noqa: S611
                f"WITH holding AS MATERIALIZED ({inner}) SELECT id FROM holding LIMIT %s",  # noqa: S608
                (*params, BODY_CANDIDATES),
            )
            body_only = (
                published.filter(id__in=candidates, vector=query)
                .select_related("article", "fix")
                .defer(*UNREAD)
                .order_by()[: limit - len(scored)]
            )
            scored += [(d, 0.0) for d in body_only]
        return [
            Match(
                article_id=d.article_id,
                fix_id=d.fix_id,
                title=d.title,
                summary=d.summary,
                body=d.body,
                score=score,
                article=d.article,
                fix=d.fix,
            )
            for d, score in scored
        ]

    @staticmethod
    def _ranked_heads(
        query: SearchQuery, limit: int, published: Any
    ) -> list[tuple[SearchDocument, float]]:
        """The best ``limit`` published head matches, with their scores.

        Ranked on the document table alone, ids and ranks only, a window at a
        time; the rows (bodies for snippets, articles, fixes) and the
        publication check come after, for the window's ids only. Sorting the
        whole joined rows of every match (2,000 for a common word) cost 10-30 ms;
        this costs about 3.
        """
        heads = (
            SearchDocument.objects.filter(head=query)
            .annotate(
                rank=SearchRank(F("head"), query),
                # A title hit: a match within the A-weighted part. A second
                # ts_rank with A-only weights said the same and cost 30-60 % more
                # over the 4,500 head matches of "verify you are human".
                in_title=_Matches(F("head"), _TitlesOnly(query)),
            )
            .order_by(F("in_title").desc(), "-rank", "id")
            .values_list("id", "rank", "in_title")
        )
        window = 2 * limit  # drafts and scheduled articles are few: one window is the rule
        scored: list[tuple[SearchDocument, float]] = []
        start = 0
        while len(scored) < limit:
            page = list(heads[start : start + window])
            ids = [pk for pk, _, _ in page]
            rows = published.select_related("article", "fix").defer(*UNREAD).in_bulk(ids)
            for pk, rank, in_title in page:
                if pk in rows:
                    scored.append((rows[pk], (1.0 if in_title else 0.0) + rank))
            if len(page) < window:
                break
            start += window
        return scored[:limit]
