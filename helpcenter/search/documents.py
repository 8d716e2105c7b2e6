"""Search documents: what one article or one fix contributes to the index."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from helpcenter.models import Article, Fix

_VOCAB_WORD = re.compile(r"[^\W\d_]{3,32}")
_TAG = re.compile(r"<[^>]+>")
# The sanitiser may write the attributes in any order (aria-label comes first).
_HEADERLINK = re.compile(r'<a\b[^>]*\bclass="headerlink"[^>]*>.*?</a>')
SPACE = re.compile(r"\s+")
# Tags become spaces so block elements never glue words together; inline ones
# ("<code>1005</code>, 1006") leave a space before punctuation, removed here.
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?)])")


@dataclass(frozen=True)
class Document:
    article_id: int
    fix_id: int | None
    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class Match:
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


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def html_text(fragment: str) -> str:
    """Plain text of sanitised HTML (ours, from markdown.py), for indexing and snippets."""
    text = _TAG.sub(" ", _HEADERLINK.sub("", fragment))
    text = SPACE.sub(" ", html.unescape(text)).strip()
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def article_document(article: Article) -> Document:
    faq = list(article.faq.all())
    return Document(
        article_id=article.pk,
        fix_id=None,
        title=article.title,
        summary=" ".join([article.summary, *(entry.question for entry in faq)]).strip(),
        body=" ".join(
            [html_text(article.body_html), *(html_text(entry.answer_html) for entry in faq)]
        ).strip(),
    )


def fix_document(fix: Fix) -> Document:
    return Document(
        article_id=fix.article_id,
        fix_id=fix.pk,
        title=fix.title,
        summary=fix.summary,
        body=html_text(fix.body_html),
    )


def vocabulary(document: Document) -> set[str]:
    text = f"{document.title} {document.summary} {document.body}".lower()
    return set(_VOCAB_WORD.findall(text))


# --- Hits and snippets ---------------------------------------------------------------
