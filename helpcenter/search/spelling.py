"""Spelling: an unknown query word becomes its closest indexed word when that is very close."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from helpcenter.search.backends import backend_for
from helpcenter.search.base import Backend

# difflib ratio a replacement must reach: "cokies"/"cookies" is 0.92,
# "cook"/"cookies" only 0.73, so a short real word is never "corrected" into
# a longer one.
CORRECTION_CUTOFF = 0.8


def correct_words(
    words: Sequence[str],
    backend: Backend | None = None,
    vocabulary: dict[str, tuple[bool, bool]] | None = None,
) -> list[str]:
    """Replace each unknown word by a very close known one; keep it when none is close.

    A word is known when some indexed word starts with it, so a half-typed
    word in instant search ("extens") is left for prefix matching.
    """
    backend = backend or backend_for()
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
