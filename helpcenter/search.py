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
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Value
from django.db.models.lookups import GreaterThan
from django.db.models.signals import post_delete, post_migrate, post_save, pre_migrate
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from helpcenter.models import (
    Article,
    FaqEntry,
    Fix,
    SearchDocument,
    SearchMiss,
    SearchTerm,
)
from helpcenter.text import without_control_chars

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
SNIPPET_CHARS = 180
# difflib ratio a replacement must reach: "cokies"/"cookies" is 0.92,
# "cook"/"cookies" only 0.73, so a short real word is never "corrected" into
# a longer one.
CORRECTION_CUTOFF = 0.8

FTS_TABLE = "helpcenter_search_fts"
TERM_TABLE = "helpcenter_search_term"

_WORD = re.compile(r"\w+")
_VOCAB_WORD = re.compile(r"[^\W\d_]{3,32}")
_TAG = re.compile(r"<[^>]+>")
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>')
_SPACE = re.compile(r"\s+")
# Words that would make the SQLite trigram query demand an exact "how" or
# "the" somewhere; PostgreSQL drops its own (larger) list.
_STOPWORDS = frozenset(
    (  # noqa: SIM905 - a sentence of words reads better than 42 quoted items
        "a an and are as at be but by can do does for from how i if in is it my no not of on or "
        "so that the this to was what when where which who why will with you your"
    ).split()
)


@dataclass(frozen=True)
class SearchHit:
    article: Article
    fix: Fix | None
    title: str
    url: str
    snippet_html: SafeString
    score: float


@dataclass(frozen=True)
class _Document:
    article_id: int
    fix_id: int | None
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class _Match:
    article_id: int
    fix_id: int | None
    title: str
    summary: str
    body: str
    score: float
    # Filled when the backend fetched them with the match (one join instead
    # of two more queries).
    article: Article | None = None
    fix: Fix | None = None


# --- The interface -----------------------------------------------------------------


def normalise_query(query: str) -> str:
    # Control characters (NUL above all: PostgreSQL refuses it) never reach a query.
    return _SPACE.sub(" ", without_control_chars(query)).strip().lower()[:MAX_QUERY_CHARS]


def search(query: str, limit: int = 20) -> list[SearchHit]:
    # Single characters are noise from punctuation ("it's", "<b>"), not words.
    words = [w for w in _WORD.findall(normalise_query(query)) if len(w) > 1][:MAX_QUERY_WORDS]
    if not words:
        return []
    backend = _backend()
    # One query tells, for every word, whether it is indexed exactly and
    # whether some indexed word starts with it (each was a query before).
    vocabulary = backend.lookup(words)
    words = correct_words(words, backend, vocabulary)
    last = words[-1]
    exact = vocabulary[last][0] if last in vocabulary else backend.is_exact(last)
    matches = backend.match(words, limit, last_is_word=exact)
    return _hits(matches, words)


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


def correct_words(
    words: Sequence[str],
    backend: _Backend | None = None,
    vocabulary: dict[str, tuple[bool, bool]] | None = None,
) -> list[str]:
    """Replace each unknown word by a very close known one; keep it when none is close.

    A word is known when some indexed word starts with it, so a half-typed
    word in instant search ("extens") is left for prefix matching.
    """
    backend = backend or _backend()
    if vocabulary is None:
        vocabulary = backend.lookup(words)
    corrected = []
    for word in words:
        if len(word) < 4 or not word.isalpha() or vocabulary[word][1]:
            corrected.append(word)
            continue
        close = difflib.get_close_matches(
            word, backend.candidates(word), n=1, cutoff=CORRECTION_CUTOFF
        )
        corrected.append(close[0] if close else word)
    return corrected


def rebuild(batch: int = 500) -> int:
    """Index every article and fix again (after a bulk import or a raw SQL change)."""
    backend = _backend()
    count = 0
    with transaction.atomic():
        backend.clear()
        articles = Article.objects.order_by("pk").prefetch_related("faq", "fixes")
        for chunk in _chunks(list(articles.values_list("pk", flat=True)), batch):
            documents = []
            for article in articles.filter(pk__in=chunk):
                documents.append(_article_document(article))
                documents.extend(_fix_document(fix) for fix in article.fixes.all())
            backend.store_many(documents)
            count += len(documents)
    return count


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- Documents -------------------------------------------------------------------


def html_text(fragment: str) -> str:
    """Plain text of sanitised HTML (ours, from markdown.py), for indexing and snippets."""
    text = _TAG.sub(" ", _HEADERLINK.sub("", fragment))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def _article_document(article: Article) -> _Document:
    faq = list(article.faq.all())
    return _Document(
        article_id=article.pk,
        fix_id=None,
        title=article.title,
        summary=" ".join([article.summary, *(entry.question for entry in faq)]).strip(),
        body=" ".join(
            [html_text(article.body_html), *(html_text(entry.answer_html) for entry in faq)]
        ).strip(),
    )


def _fix_document(fix: Fix) -> _Document:
    return _Document(
        article_id=fix.article_id,
        fix_id=fix.pk,
        title=fix.title,
        summary=fix.summary,
        body=html_text(fix.body_html),
    )


def _vocabulary(document: _Document) -> set[str]:
    text = f"{document.title} {document.summary} {document.body}".lower()
    return set(_VOCAB_WORD.findall(text))


# --- Hits and snippets ---------------------------------------------------------------


def _hits(matches: list[_Match], words: Sequence[str]) -> list[SearchHit]:
    if not matches:
        return []
    articles = {m.article_id: m.article for m in matches if m.article is not None}
    fixes = {m.fix_id: m.fix for m in matches if m.fix is not None}
    if len(articles) < len({m.article_id for m in matches}):
        articles = Article.objects.in_bulk({m.article_id for m in matches})
        fixes = Fix.objects.in_bulk({m.fix_id for m in matches if m.fix_id is not None})
    pattern = _highlight_pattern(words)
    hits = []
    for match in matches:
        article = articles.get(match.article_id)
        fix = fixes.get(match.fix_id) if match.fix_id is not None else None
        if article is None or (match.fix_id is not None and fix is None):
            continue  # deleted between the two queries
        if fix is not None:
            fix.article = article  # spares get_absolute_url a query per hit
        hits.append(
            SearchHit(
                article=article,
                fix=fix,
                title=fix.title if fix is not None else article.title,
                url=_url(article, fix),
                snippet_html=snippet(f"{match.summary} {match.body}".strip(), pattern),
                score=match.score,
            )
        )
    return hits


def _url(article: Article, fix: Fix | None) -> str:
    if fix is None:
        return article.get_absolute_url()
    try:
        return fix.get_absolute_url()
    except NoReverseMatch:  # fix pages not routed: the fix's anchor in its article
        return f"{article.get_absolute_url()}#fix-{fix.slug}"


def _highlight_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    # PostgreSQL matches stems ("extensions" finds "extension"), SQLite
    # matches substrings: highlighting from a short root covers both.
    roots = {_root(word) for word in words if word not in _STOPWORDS and len(word) >= 3}
    if not roots:
        return None
    alternatives = "|".join(re.escape(root) for root in sorted(roots, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})\w*", re.IGNORECASE)


def _root(word: str) -> str:
    # Deliberately crude: enough that plurals and -ing/-ed forms meet, never
    # so short that "cookies" turns into "cook".
    for suffix, replacement in (("ing", ""), ("ies", "i"), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= 4:
            return word[: -len(suffix)] + replacement
    return word


def snippet(text: str, pattern: re.Pattern[str] | None) -> SafeString:
    """A short excerpt around the first match, escaped, with matches in <mark>."""
    first = pattern.search(text) if pattern is not None else None
    start = 0
    if first is not None and first.start() > SNIPPET_CHARS // 3:
        start = text.rfind(" ", 0, first.start() - SNIPPET_CHARS // 3) + 1
    end = start + SNIPPET_CHARS
    if end < len(text):
        end = max(text.rfind(" ", start, end), start + SNIPPET_CHARS // 2)
    excerpt = text[start:end]
    pieces = ["… " if start > 0 else ""]
    position = 0
    for found in pattern.finditer(excerpt) if pattern is not None else ():
        pieces.append(escape(excerpt[position : found.start()]))
        pieces.append(f"<mark>{escape(found.group())}</mark>")
        position = found.end()
    pieces.append(escape(excerpt[position:]))
    pieces.append(" …" if end < len(text) else "")
    # Safe: every piece of visitor or author text above went through escape().
    return mark_safe("".join(pieces))  # noqa: S308


# --- Backends ------------------------------------------------------------------------


class _Backend:
    def store(self, document: _Document) -> None:
        raise NotImplementedError

    def store_many(self, documents: Sequence[_Document]) -> None:
        raise NotImplementedError

    def delete(self, article_id: int | None = None, fix_id: int | None = None) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def is_known(self, word: str) -> bool:
        raise NotImplementedError

    def is_exact(self, word: str) -> bool:
        raise NotImplementedError

    def lookup(self, words: Sequence[str]) -> dict[str, tuple[bool, bool]]:
        """word -> (indexed exactly, some indexed word starts with it), in one query."""
        raise NotImplementedError

    def candidates(self, word: str) -> list[str]:
        raise NotImplementedError

    def match(self, words: Sequence[str], limit: int, last_is_word: bool = True) -> list[_Match]:
        """Ranked matches; ``last_is_word`` False makes the last word a prefix."""
        raise NotImplementedError


class _PostgresBackend(_Backend):
    def store(self, document: _Document) -> None:
        values = {"title": document.title, "summary": document.summary, "body": document.body}
        if document.fix_id is None:
            SearchDocument.objects.update_or_create(
                article_id=document.article_id, fix=None, defaults=values
            )
        else:
            SearchDocument.objects.update_or_create(
                fix_id=document.fix_id,
                defaults={**values, "article_id": document.article_id},
            )
        self.add_words(_vocabulary(document))

    def store_many(self, documents: Sequence[_Document]) -> None:
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
        self.add_words(set().union(*(_vocabulary(d) for d in documents)))

    @staticmethod
    def add_words(words: set[str]) -> None:
        # Most words of an edited article are known already: reading first
        # spares the trigram index an insert attempt per word.
        for chunk in _chunks(sorted(words), 2000):
            known = set(SearchTerm.objects.filter(word__in=chunk).values_list("word", flat=True))
            SearchTerm.objects.bulk_create(
                [SearchTerm(word=w) for w in chunk if w not in known],
                ignore_conflicts=True,
                batch_size=1000,
            )

    def delete(self, article_id: int | None = None, fix_id: int | None = None) -> None:
        if fix_id is not None:
            SearchDocument.objects.filter(fix_id=fix_id).delete()
        elif article_id is not None:
            SearchDocument.objects.filter(article_id=article_id).delete()

    def clear(self) -> None:
        SearchDocument.objects.all().delete()

    def is_known(self, word: str) -> bool:
        return SearchTerm.objects.filter(word__startswith=word).exists()

    def is_exact(self, word: str) -> bool:
        return SearchTerm.objects.filter(word=word).exists()

    def lookup(self, words: Sequence[str]) -> dict[str, tuple[bool, bool]]:
        unique = sorted(set(words))
        with connection.cursor() as cursor:
            # starts_with(): no LIKE wildcards to escape ("_" is a \w character).
            cursor.execute(
                f"SELECT w, EXISTS (SELECT 1 FROM {SearchTerm._meta.db_table} WHERE word = w), "  # noqa: S608
                f"EXISTS (SELECT 1 FROM {SearchTerm._meta.db_table} WHERE starts_with(word, w)) "
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

    def match(self, words: Sequence[str], limit: int, last_is_word: bool = True) -> list[_Match]:
        query = SearchQuery(" ".join(words), search_type="websearch", config="english")
        last = words[-1]
        if len(last) >= 3 and not last_is_word:
            # A half-typed last word (instant search): match it as a prefix.
            rest = " ".join(words[:-1])
            prefix = SearchQuery(f"{last}:*", search_type="raw", config="english")
            query = (
                SearchQuery(rest, search_type="websearch", config="english") & prefix
                if rest
                else prefix
            )
        now = timezone.now()
        published = SearchDocument.objects.filter(
            article__status=Article.Status.PUBLISHED, article__published_at__lte=now
        )
        # Two tiers. First the documents whose title or summary (the small
        # "head" vector, GIN-indexed) match, ranked: titles first. Only when
        # they do not fill the page, body-only matches, in id order (their
        # head rank was 0 anyway). Ranking every match of a common word
        # (thousands of rows) was most of the old cost.
        scored = self._ranked_heads(query, limit, published)
        if len(scored) < limit:
            body_only = (
                published.filter(vector=query)
                .exclude(head=query)
                .select_related("article", "fix")
                .order_by("id")[: limit - len(scored)]
            )
            scored += [(d, 0.0) for d in body_only]
        return [
            _Match(
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
                # The A-weighted part (titles) only: > 0 means a title hit.
                title_rank=SearchRank(F("head"), query, weights=[0.0, 0.0, 0.0, 1.0]),
            )
            .order_by(GreaterThan(F("title_rank"), Value(0.0)).desc(), "-rank", "id")
            .values_list("id", "rank", "title_rank")
        )
        window = 2 * limit  # drafts and scheduled articles are few: one window is the rule
        scored: list[tuple[SearchDocument, float]] = []
        start = 0
        while len(scored) < limit:
            page = list(heads[start : start + window])
            ids = [pk for pk, _, _ in page]
            rows = published.select_related("article", "fix").in_bulk(ids)
            for pk, rank, title_rank in page:
                if pk in rows:
                    scored.append((rows[pk], (1.0 if title_rank > 0 else 0.0) + rank))
            if len(page) < window:
                break
            start += window
        return scored[:limit]


def _fts_rowid(article_id: int, fix_id: int | None) -> int:
    # A document's rowid follows from what it indexes (a fix by its id, an
    # article by its id negated), so replacing or deleting one is a rowid
    # look-up: article_id and fix_id are UNINDEXED, and a WHERE on them read
    # all 40,000 rows of the benchmark (~130 ms of every save).
    return fix_id if fix_id is not None else -article_id


class _SqliteBackend(_Backend):
    def store(self, document: _Document) -> None:
        rowid = _fts_rowid(document.article_id, document.fix_id)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [rowid])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, article_id, fix_id, title, summary, body) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    rowid,
                    document.article_id,
                    document.fix_id,
                    document.title,
                    document.summary,
                    document.body,
                ],
            )
            cursor.executemany(
                f"INSERT OR IGNORE INTO {TERM_TABLE} (word) VALUES (%s)",  # noqa: S608
                [(word,) for word in _vocabulary(document)],
            )

    def store_many(self, documents: Sequence[_Document]) -> None:
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
                [(word,) for word in sorted(set().union(*(_vocabulary(d) for d in documents)))],
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

    def is_known(self, word: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {TERM_TABLE} WHERE word >= %s AND word < %s LIMIT 1",  # noqa: S608
                [word, word + "\U0010ffff"],
            )
            return cursor.fetchone() is not None

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
        # Same first letter, similar length: an index range scan, small
        # enough for difflib to compare every row.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word FROM {TERM_TABLE} WHERE word >= %s AND word < %s "  # noqa: S608
                "AND length(word) BETWEEN %s AND %s",
                [word[0], chr(ord(word[0]) + 1), len(word) - 2, len(word) + 2],
            )
            return [row[0] for row in cursor.fetchall()]

    def match(self, words: Sequence[str], limit: int, last_is_word: bool = True) -> list[_Match]:
        # A stopword would have to appear literally: leave it out, as
        # PostgreSQL does. The porter tokenizer stems both sides, so
        # "timeouts" also finds "timeout".
        terms = [w for w in words if w not in _STOPWORDS]
        if not terms:
            return []
        phrases = ['"' + term.replace('"', '""') + '"' for term in terms]
        if terms[-1] == words[-1] and not last_is_word:
            phrases[-1] += "*"  # a half-typed last word (instant search): a prefix
        everywhere = " AND ".join(phrases)
        in_titles = " AND ".join(f"title : {phrase}" for phrase in phrases)
        # Two tiers, each ranked by bm25 inside FTS5 with a LIMIT: title hits
        # first, then the rest. Ranking every match of a common word at once
        # (thousands of rows) was most of the old cost; the second tier is
        # only read when the first does not fill the page.
        ranked: list[tuple[int, float]] = []
        for expression, bonus in ((in_titles, 1.0), (f"({everywhere}) NOT ({in_titles})", 0.0)):
            ranked += self._ranked(expression, bonus, limit - len(ranked))
            if len(ranked) >= limit:
                break
        if not ranked:
            return []
        with connection.cursor() as cursor:
            marks = ", ".join("%s" for _ in ranked)
            cursor.execute(
                f"SELECT rowid, article_id, fix_id, title, summary, body FROM {FTS_TABLE} "  # noqa: S608
                f"WHERE rowid IN ({marks})",
                [rowid for rowid, _ in ranked],
            )
            rows = {row[0]: row[1:] for row in cursor.fetchall()}
        return [
            _Match(*rows[rowid], score=score)  # type: ignore[misc]
            for rowid, score in ranked
            if rowid in rows
        ]

    @staticmethod
    def _ranked(expression: str, bonus: float, wanted: int) -> list[tuple[int, float]]:
        """Up to ``wanted`` (rowid, score) of published documents matching, best first.

        Publication is checked afterwards, on the page's rows only: joining
        the published articles inside the FTS query made SQLite rank every
        match again. Drafts and scheduled articles are few, so a page rarely
        needs a second fetch.
        """
        found: list[tuple[int, float]] = []
        offset = 0
        batch = wanted + 10
        while len(found) < wanted:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT rowid, article_id, bm25({FTS_TABLE}, 0, 0, 10.0, 4.0, 1.0) "  # noqa: S608
                    f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
                    "ORDER BY 3 LIMIT %s OFFSET %s",
                    [expression, batch, offset],
                )
                rows = cursor.fetchall()
            if not rows:
                break
            published = set(
                Article.objects.published()
                .filter(pk__in={article_id for _, article_id, _ in rows})
                .values_list("pk", flat=True)
            )
            found += [(rowid, bonus - bm) for rowid, aid, bm in rows if aid in published]
            if len(rows) < batch:
                break
            offset += batch
            batch *= 2
        return found[:wanted]


_BACKENDS: dict[str, _Backend] = {
    "postgresql": _PostgresBackend(),
    "sqlite": _SqliteBackend(),
}


def _backend(using: BaseDatabaseWrapper | None = None) -> _Backend:
    vendor = (using or connection).vendor
    try:
        return _BACKENDS[vendor]
    except KeyError:
        raise RuntimeError(f"search supports PostgreSQL and SQLite, not {vendor}") from None


# --- Keeping the index current -----------------------------------------------------


def _article_saved(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    _backend().store(_article_document(instance))


def _fix_saved(sender: type[Fix], instance: Fix, **kwargs: Any) -> None:
    _backend().store(_fix_document(instance))


def _faq_changed(sender: type[FaqEntry], instance: FaqEntry, **kwargs: Any) -> None:
    article = Article.objects.filter(pk=instance.article_id).first()
    if article is not None:  # None while the article itself is being deleted
        _backend().store(_article_document(article))


def _article_deleted(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    _backend().delete(article_id=instance.pk)


def _fix_deleted(sender: type[Fix], instance: Fix, **kwargs: Any) -> None:
    _backend().delete(fix_id=instance.pk)


def enable_trigram(using: str = "default", **kwargs: Any) -> None:
    """pre_migrate: pg_trgm must exist before a table with a gin_trgm_ops index."""
    from django.db import connections

    db = connections[using]
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def create_sqlite_tables(using: str = "default", **kwargs: Any) -> None:
    """post_migrate: the FTS5 table is no model, so migrations (or --nomigrations) skip it."""
    from django.db import connections

    db = connections[using]
    if db.vendor != "sqlite":
        return
    with db.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        existing = cursor.fetchone()
        # The first version used the trigram tokenizer: substring matches,
        # but slow for common words (every match checks three doclists).
        # Replace it; the rows are rebuilt below.
        outdated = existing is not None and "porter" not in existing[0]
        if existing is not None and not outdated:
            # A porter table from before rowids were derived from the ids.
            cursor.execute(
                f"SELECT 1 FROM {FTS_TABLE} WHERE rowid > 0 AND fix_id IS NULL LIMIT 1"  # noqa: S608
            )
            outdated = cursor.fetchone() is not None
        if outdated:
            cursor.execute(f"DROP TABLE {FTS_TABLE}")
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "article_id UNINDEXED, fix_id UNINDEXED, title, summary, body, "
            # porter: English stems, as PostgreSQL's "english" configuration;
            # prefix indexes keep half-typed words ("exte*") cheap.
            "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3')"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TERM_TABLE} (word TEXT PRIMARY KEY) WITHOUT ROWID"
        )
    if outdated:
        rebuild()


def connect_signals(sender: Any) -> None:
    """Called from HelpCenterConfig.ready()."""
    post_save.connect(_article_saved, sender=Article, dispatch_uid="search_article_saved")
    post_save.connect(_fix_saved, sender=Fix, dispatch_uid="search_fix_saved")
    post_save.connect(_faq_changed, sender=FaqEntry, dispatch_uid="search_faq_saved")
    post_delete.connect(_faq_changed, sender=FaqEntry, dispatch_uid="search_faq_deleted")
    post_delete.connect(_article_deleted, sender=Article, dispatch_uid="search_article_deleted")
    post_delete.connect(_fix_deleted, sender=Fix, dispatch_uid="search_fix_deleted")
    pre_migrate.connect(enable_trigram, sender=sender, dispatch_uid="search_pg_trgm")
    post_migrate.connect(create_sqlite_tables, sender=sender, dispatch_uid="search_sqlite_fts")
