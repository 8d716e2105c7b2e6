"""Re-ranking: pages whose title is (nearly) the query, or names its error code, lead.

The backends rank by text statistics (bm25, ts_rank), which reward a word
repeated in a long body; a visitor who types a page's title, or an error
code, means that page. Among the matches a backend returned:

1. an article whose title carries an error code the visitor typed ("1020");
2. then by the share of the query's slots met by the title, then by the
   title and summary together (a guide's summary says what it is about);
3. then, when the query covers at least half of a title (it is nearly that
   title), by how much, the visitor's own words counting twice a synonym's
   ("rate limited" is the 1015 guide's title, not the fix titled "too many
   requests");
4. then a guide before its fixes, for a query that names neither;
5. otherwise the backend's order stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from helpcenter.search.documents import Match
from helpcenter.search.plan import Plan
from helpcenter.search.query import STOPWORDS, WORD, root

ERROR_CODE = re.compile(r"^\d{3,4}$")


def rerank(matches: Sequence[Match], plan: Plan) -> list[Match]:
    if len(matches) < 2 or not plan.slots:
        return list(matches)
    codes = {w for w in plan.typed if ERROR_CODE.match(w)}
    typed = {root(w) for w in plan.typed}
    scored = [(_key(m, plan, codes, typed), position, m) for position, m in enumerate(matches)]
    scored.sort(key=lambda item: (item[0], -item[1]), reverse=True)
    return [m for _, _, m in scored]


def _key(
    match: Match, plan: Plan, codes: set[str], typed: set[str]
) -> tuple[bool, float, float, float, bool]:
    words = _content_words(match.title)
    roots = {root(w) for w in words}
    head = roots | {root(w) for w in _content_words(match.summary)}
    names_code = match.fix_id is None and bool(codes & set(words))
    return (
        names_code,
        _met(plan, roots),
        _met(plan, head),
        _nearness(plan, words, typed),
        match.fix_id is None,
    )


def _nearness(plan: Plan, words: list[str], typed: set[str]) -> float:
    """How much of the title the query covers, 0 when less than half of it."""
    if not words:
        return 0.0
    synonyms = {root(w) for slot in plan.slots for phrase in slot for w in phrase}
    roots = [root(w) for w in words]
    if sum(r in synonyms for r in roots) * 2 < len(roots):
        return 0.0
    return sum(1.0 if r in typed else 0.5 if r in synonyms else 0.0 for r in roots) / len(roots)


def _content_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def _met(plan: Plan, roots: set[str]) -> float:
    """The share of the plan's slots that some phrase of theirs meets in ``roots``."""
    return sum(any(_in(phrase, roots) for phrase in slot) for slot in plan.slots) / len(plan.slots)


def _in(phrase: tuple[str, ...], roots: set[str]) -> bool:
    content = [root(w) for w in phrase if w not in STOPWORDS]
    return bool(content) and all(r in roots for r in content)
