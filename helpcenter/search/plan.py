"""Query plans: the visitor's words as slots of alternatives, before a backend sees them.

A plan is a list of slots a page must all match; a slot is a set of
alternative phrases, any one of which will do. The alternatives come from:

- synonym sets editors keep in the admin ("disable" also finds "turn off");
- words typed apart or together ("chat gpt" also finds "chatgpt", and
  "accessdenied" finds "access denied") when the index knows the other form;
- spelling: an unknown word replaced by a very close known one, which the
  plan records so the page can say what it searched for instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from helpcenter.models import SynonymSet
from helpcenter.search.base import Backend, Phrase, Slot
from helpcenter.search.query import STOPWORDS
from helpcenter.search.spelling import correct_words

# Longest synonym phrase matched against the query ("verify you are human").
MAX_PHRASE_WORDS = 4
# Shortest word tried as two words run together ("accessdenied"): shorter
# ones split into fragments that happen to be words.
MIN_SPLIT_CHARS = 7


@dataclass(frozen=True)
class Plan:
    slots: list[Slot]
    # The last slot is one half-typed word (instant search): match it as a prefix.
    prefix_last: bool = False
    # Words replaced by spelling, in query order: what the visitor typed -> what was searched.
    corrections: dict[str, str] = field(default_factory=dict)
    # Words the visitor typed (after spelling), to tell their own words from synonyms.
    typed: frozenset[str] = frozenset()
    # Typed words the vocabulary holds neither whole nor as a prefix: they may
    # still match through a stem, but seldom do.
    unknown: frozenset[str] = frozenset()


def synonym_groups(sets: Iterable[SynonymSet] | None = None) -> dict[Phrase, set[Phrase]]:
    """phrase -> every phrase it stands for (itself included), over all synonym sets."""
    groups: dict[Phrase, set[Phrase]] = {}
    for synonym_set in SynonymSet.objects.all() if sets is None else sets:
        phrases = {tuple(p.split()) for p in synonym_set.phrases()}
        for phrase in phrases:
            groups.setdefault(phrase, set()).update(phrases)
    return groups


def build_plan(
    words: Sequence[str],
    backend: Backend,
    *,
    correct: bool = True,
    synonyms: dict[Phrase, set[Phrase]] | None = None,
) -> Plan:
    """The slots for ``words`` (already cleaned by query_words)."""
    if not words:
        return Plan(slots=[])
    joins = {a + b for a, b in pairwise(words)}
    splits = {w: _splits(w) for w in words if len(w) >= MIN_SPLIT_CHARS and w.isalpha()}
    # One look-up for every form the plan may use (each was a query of its own before).
    vocabulary = backend.lookup(
        [*words, *joins, *(part for pairs in splits.values() for pair in pairs for part in pair)]
    )
    split_of = {
        w: next((pair for pair in pairs if all(vocabulary[p][0] for p in pair)), None)
        for w, pairs in splits.items()
    }
    corrections: dict[str, str] = {}
    if correct:
        # A word that is two known words run together is not a typo, nor is
        # half of a pair the index knows joined ("cloud flare").
        joined = {w for a, b in pairwise(words) if vocabulary[a + b][0] for w in (a, b)}
        unknown = [w for w in words if not split_of.get(w) and w not in joined]
        fixed = dict(zip(unknown, correct_words(unknown, backend, vocabulary), strict=True))
        corrections = {w: c for w, c in fixed.items() if c != w}
    words = [corrections.get(w, w) for w in words]
    groups = synonym_groups() if synonyms is None else synonyms
    slots, last_plain = _slots(words, groups, vocabulary, split_of)
    slots = [slot for slot in slots if not _only_stopwords(slot)]
    last = words[-1]
    prefix_last = (
        last_plain
        and bool(slots)
        and slots[-1] == ((last,),)
        and not vocabulary.get(last, (True, True))[0]
    )
    # Only words the vocabulary could hold (letters, 3 or more): it never holds
    # codes ("1020") or two-letter words, which match all the same.
    unindexed = frozenset(
        w for w in words if w.isalpha() and len(w) >= 3 and not vocabulary.get(w, (True, True))[1]
    )
    return Plan(
        slots=slots,
        prefix_last=prefix_last,
        corrections=corrections,
        typed=frozenset(words),
        unknown=unindexed,
    )


def _slots(
    words: Sequence[str],
    groups: dict[Phrase, set[Phrase]],
    vocabulary: dict[str, tuple[bool, bool]],
    split_of: dict[str, Phrase | None],
) -> tuple[list[Slot], bool]:
    """Left to right: the longest synonym phrase, else a joined pair, else the word."""
    slots: list[Slot] = []
    last_plain = False
    i = 0
    while i < len(words):
        size, alternatives = _synonym_at(words, i, groups)
        last_plain = False
        if alternatives:
            i += size
        elif i + 1 < len(words) and vocabulary.get(words[i] + words[i + 1], (False,))[0]:
            joined = words[i] + words[i + 1]
            alternatives = {(words[i], words[i + 1]), (joined,), *groups.get((joined,), ())}
            i += 2
        else:
            word = words[i]
            alternatives = {(word,)}
            if split_of.get(word):
                alternatives.add(split_of[word])  # type: ignore[arg-type]
            last_plain = len(alternatives) == 1
            i += 1
        slots.append(tuple(sorted(alternatives, key=lambda p: (len(p), p))))
    return slots, last_plain


def _synonym_at(
    words: Sequence[str], i: int, groups: dict[Phrase, set[Phrase]]
) -> tuple[int, set[Phrase]]:
    for size in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
        phrase = tuple(words[i : i + size])
        if phrase in groups:
            return size, set(groups[phrase])
    return 0, set()


def _splits(word: str) -> list[Phrase]:
    # Both parts of at least three letters: "accessdenied" -> ("access", "denied").
    return [(word[:k], word[k:]) for k in range(3, len(word) - 2)]


def _only_stopwords(slot: Slot) -> bool:
    return all(all(w in STOPWORDS for w in phrase) for phrase in slot)
