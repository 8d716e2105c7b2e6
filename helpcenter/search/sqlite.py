"""SQLite backend: an FTS5 table (porter stems) ranked by bm25, a word table for spelling."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db import connection

from helpcenter.models import Article
from helpcenter.search.base import Backend, Slot
from helpcenter.search.documents import Document, Match, vocabulary

FTS_TABLE = "helpcenter_search_fts"
# Column weights for bm25 (article_id, fix_id, title, summary, body).
BM25_WEIGHTS = "0, 0, 10.0, 4.0, 1.0"
# Matches the body tier ranks (see _body_tier).
BODY_CANDIDATES = 500
TERM_TABLE = "helpcenter_search_term"


def _fts_slot(slot: Slot) -> str:
    """A slot as an FTS5 group: any of its phrases, each quoted ("turn off" stays a phrase)."""
    phrases = ['"' + " ".join(phrase).replace('"', '""') + '"' for phrase in slot]
    return "(" + " OR ".join(phrases) + ")"


def _fts_rowid(article_id: int, fix_id: int | None) -> int:
    # A document's rowid follows from what it indexes (a fix by its id, an
    # article by its id negated), so replacing or deleting one is a rowid
    # look-up: article_id and fix_id are UNINDEXED, and a WHERE on them read
    # all 40,000 rows of the benchmark (~130 ms of every save).
    return fix_id if fix_id is not None else -article_id


class SqliteBackend(Backend):
    def store(self, document: Document) -> None:
        rowid = _fts_rowid(document.article_id, document.fix_id)
        text = (document.title, document.summary, document.body)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT article_id, title, summary, body FROM {FTS_TABLE} WHERE rowid = %s",  # noqa: S608
                [rowid],
            )
            stored = cursor.fetchone()
            if stored is not None and tuple(stored) == (document.article_id, *text):
                return  # nothing indexed changed (a status or order change, say)
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [rowid])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, article_id, fix_id, title, summary, body) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [rowid, document.article_id, document.fix_id, *text],
            )
            # The old text's words are in the vocabulary already (it is only ever added to).
            words = vocabulary(document)
            if stored is not None:
                words -= vocabulary(Document(document.article_id, document.fix_id, *stored[1:]))
            cursor.executemany(
                f"INSERT OR IGNORE INTO {TERM_TABLE} (word) VALUES (%s)",  # noqa: S608
                [(word,) for word in words],
            )

    def store_many(self, documents: Sequence[Document]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, article_id, fix_id, title, summary, body) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (
                        _fts_rowid(d.article_id, d.fix_id),
                        d.article_id,
                        d.fix_id,
                        d.title,
                        d.summary,
                        d.body,
                    )
                    for d in documents
                ],
            )
            cursor.executemany(
                f"INSERT OR IGNORE INTO {TERM_TABLE} (word) VALUES (%s)",  # noqa: S608
                [(word,) for word in sorted(set().union(*(vocabulary(d) for d in documents)))],
            )

    def delete(self, article_id: int | None = None, fix_id: int | None = None) -> None:
        with connection.cursor() as cursor:
            if fix_id is not None:
                cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [fix_id])  # noqa: S608
            elif article_id is not None:
                # Its fixes' rows went with their own post_delete; the scan
                # catches any left behind (deleting an article is rare).
                cursor.execute(
                    f"DELETE FROM {FTS_TABLE} WHERE rowid = %s OR article_id = %s",  # noqa: S608
                    [-article_id, article_id],
                )

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608

    def is_exact(self, word: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {TERM_TABLE} WHERE word = %s", [word])  # noqa: S608
            return cursor.fetchone() is not None

    def lookup(self, words: Sequence[str]) -> dict[str, tuple[bool, bool]]:
        # The first indexed word at or after w: w itself when exact, a longer
        # word starting with w when only known as a prefix.
        unique = sorted(set(words))
        with connection.cursor() as cursor:
            cursor.execute(
                " UNION ALL ".join(
                    f"SELECT %s, (SELECT word FROM {TERM_TABLE} WHERE word >= %s "  # noqa: S608
                    "ORDER BY word LIMIT 1)"
                    for _ in unique
                ),
                [value for w in unique for value in (w, w)],
            )
            return {
                w: (first == w, first is not None and first.startswith(w))
                for w, first in cursor.fetchall()
            }

    def candidates(self, word: str) -> list[str]:
        # Similar length and sharing the first or second letter with the word
        # as typed, through index range scans (the word table's key and an
        # index on its tail): a typo in the first letter ("vloudflare"), a
        # lost one ("loudflare") or an extra one ("xcloudflare") still meets
        # its word. Of those (3,600 words of a 20,000-word vocabulary for
        # "certificte"), only words holding at least half of the typed word's
        # letter pairs go on to difflib: one typo breaks at most two pairs, and
        # difflib over thousands of words cost 10-20 ms a query.
        sizes = [len(word) - 2, len(word) + 2]
        ranges = [
            ("word", word[0]),
            ("word", word[1]),
            ("substr(word, 2)", word[0]),
            ("substr(word, 2)", word[1]),
        ]
        pairs = sorted({word[i : i + 2] for i in range(len(word) - 1)})
        near = " UNION ".join(
            f"SELECT word FROM {TERM_TABLE} WHERE {column} >= %s AND {column} < %s "  # noqa: S608
            "AND length(word) BETWEEN %s AND %s"
            for column, _ in ranges
        )
        shared = " + ".join("(instr(word, %s) > 0)" for _ in pairs)
        params: list[str | int] = []
        for _, letter in ranges:
            params += [letter, chr(ord(letter) + 1), *sizes]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word FROM ({near}) WHERE {shared} >= %s",  # noqa: S608
                [*params, *pairs, len(pairs) // 2],
            )
            return [row[0] for row in cursor.fetchall()]

    def match(self, slots: Sequence[Slot], limit: int, prefix_last: bool = False) -> list[Match]:
        # Stopwords were left out of the plan, as PostgreSQL does; the porter
        # tokenizer stems both sides, so "timeouts" also finds "timeout".
        if not slots:
            return []
        groups = [_fts_slot(slot) for slot in slots]
        if prefix_last:
            groups[-1] = groups[-1][:-1] + "*)"  # a half-typed last word (instant search)
        everywhere = " AND ".join(groups)
        in_titles = " AND ".join(f"title : {group}" for group in groups)
        # Two tiers: title hits ranked by bm25 inside FTS5, then the rest.
        # Ranking every match of a common word at once (thousands of rows) was
        # most of the old cost; the second tier is only read when the first
        # does not fill the page.
        found: list[Match] = []
        seen: set[int] = set()
        tiers = ((self._title_tier(in_titles, limit), 1.0), (self._body_tier(everywhere), 0.0))
        for batches, bonus in tiers:
            for batch in batches:
                fresh = [(rowid, bm) for rowid, bm in batch if rowid not in seen]
                seen.update(rowid for rowid, _ in fresh)
                found += _published(fresh, bonus)
                if len(found) >= limit:
                    return found[:limit]
        return found

    @staticmethod
    def _title_tier(expression: str, limit: int) -> Iterator[list[tuple[int, float]]]:
        """(rowid, bm25) of title matches, best first, a batch at a time.

        Ids and ranks only: reading any other column (article_id) inside the
        ranked query loads every match's stored text, bodies included, before
        the sort. Publication is checked afterwards on the batch's rows
        (joining it in made SQLite rank every match again); drafts and
        scheduled articles are few, so a page rarely needs a second batch.
        """
        offset, batch = 0, limit + 10
        while True:
            rows = _query(
                f"SELECT rowid, bm25({FTS_TABLE}, {BM25_WEIGHTS}) FROM {FTS_TABLE} "  # noqa: S608
                f"WHERE {FTS_TABLE} MATCH %s ORDER BY 2 LIMIT %s OFFSET %s",
                [expression, batch, offset],
            )
            yield rows
            if len(rows) < batch:
                return
            offset += batch
            batch *= 2

    @staticmethod
    def _body_tier(expression: str) -> Iterator[list[tuple[int, float]]]:
        """The first BODY_CANDIDATES matches in storage order, ranked by bm25 among themselves.

        As on PostgreSQL, the body tier fills the page rather than ranking
        every match: bm25 over all 12,000 documents holding "cookies" cost
        20-30 ms a query, over 500 about 2.
        """
        rows = _query(
            f"SELECT rowid, bm25({FTS_TABLE}, {BM25_WEIGHTS}) FROM {FTS_TABLE} "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH %s LIMIT %s",
            [expression, BODY_CANDIDATES],
        )
        rows.sort(key=lambda row: row[1])
        for start in range(0, len(rows), 50):
            yield rows[start : start + 50]


def _query(sql: str, params: Sequence[str | int]) -> list[tuple[int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(rowid, bm) for rowid, bm in cursor.fetchall()]


def _published(ranked: Sequence[tuple[int, float]], bonus: float) -> list[Match]:
    """The ranked documents whose article is public, in order, as matches (one query)."""
    if not ranked:
        return []
    public, params = Article.objects.published().order_by().values("pk").query.sql_with_params()
    marks = ", ".join("%s" for _ in ranked)
    # A join SQLite flattens into a primary-key look-up per row; "article_id IN
    # (published ids)" built the list of all 9,000 published articles first.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.rowid, f.article_id, f.fix_id, f.title, f.summary, f.body "  # noqa: S608
            f"FROM {FTS_TABLE} f JOIN ({public}) p ON p.pk = f.article_id "
            f"WHERE f.rowid IN ({marks})",
            [*params, *(rowid for rowid, _ in ranked)],
        )
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    return [
        Match(*rows[rowid], score=bonus - bm)  # type: ignore[misc]
        for rowid, bm in ranked
        if rowid in rows
    ]
