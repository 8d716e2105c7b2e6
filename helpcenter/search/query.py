"""Query text: how a visitor's words are cleaned before any backend sees them."""

from __future__ import annotations

import re

from helpcenter.text import without_control_chars

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8

WORD = re.compile(r"\w+")
SPACE = re.compile(r"\s+")
# Words that would make the SQLite trigram query demand an exact "how" or
# "the" somewhere; PostgreSQL drops its own (larger) list.
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a sentence of words reads better than 42 quoted items
        "a an and are as at be but by can do does for from how i if in is it my no not of on or "
        "so that the this to was what when where which who why will with you your me we us our am "
        "has have had then than"
    ).split()
)


def normalise_query(query: str) -> str:
    # Control characters (NUL above all: PostgreSQL refuses it) never reach a query.
    return SPACE.sub(" ", without_control_chars(query)).strip().lower()[:MAX_QUERY_CHARS]


def query_words(query: str) -> list[str]:
    # Single characters are noise from punctuation ("it's", "<b>"), not words.
    return [w for w in WORD.findall(normalise_query(query)) if len(w) > 1][:MAX_QUERY_WORDS]


def root(word: str) -> str:
    """A crude stem, enough that plurals and -ing/-ed forms meet ("cookies" never turns "cook")."""
    for suffix, replacement in (("ing", ""), ("ies", "i"), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= 4:
            return word[: -len(suffix)] + replacement
    return word
