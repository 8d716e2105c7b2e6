"""Search hits and their snippets: escaped excerpts with the query's words marked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from helpcenter.models import Article, Fix
from helpcenter.search.documents import Match
from helpcenter.search.query import STOPWORDS, root

SNIPPET_CHARS = 180


@dataclass(frozen=True)
class SearchHit:
    article: Article
    fix: Fix | None
    title: str
    url: str
    snippet_html: SafeString
    score: float


def hits(matches: list[Match], words: Sequence[str]) -> list[SearchHit]:
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
                url=(fix or article).get_absolute_url(),
                snippet_html=snippet(f"{match.summary} {match.body}".strip(), pattern),
                score=match.score,
            )
        )
    return hits


def _highlight_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    # PostgreSQL matches stems ("extensions" finds "extension"), SQLite
    # matches substrings: highlighting from a short root covers both.
    roots = {root(word) for word in words if word not in STOPWORDS and len(word) >= 3}
    if not roots:
        return None
    alternatives = "|".join(re.escape(stem) for stem in sorted(roots, key=len, reverse=True))
    # \b: a word's start only, so "rate" never marks the middle of "separate".
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


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
