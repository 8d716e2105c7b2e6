"""What every search backend does; backends.py picks one by database vendor."""

from __future__ import annotations

from collections.abc import Sequence

from helpcenter.search.documents import Document, Match

Phrase = tuple[str, ...]
Slot = tuple[Phrase, ...]


class Backend:
    def store(self, document: Document) -> None:
        raise NotImplementedError

    def store_many(self, documents: Sequence[Document]) -> None:
        raise NotImplementedError

    def delete(self, article_id: int | None = None, fix_id: int | None = None) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def is_exact(self, word: str) -> bool:
        raise NotImplementedError

    def lookup(self, words: Sequence[str]) -> dict[str, tuple[bool, bool]]:
        """word -> (indexed exactly, some indexed word starts with it), in one query."""
        raise NotImplementedError

    def candidates(self, word: str) -> list[str]:
        raise NotImplementedError

    def match(self, slots: Sequence[Slot], limit: int, prefix_last: bool = False) -> list[Match]:
        """Ranked matches of every slot (any of its phrases); ``prefix_last``: last is a prefix."""
        raise NotImplementedError
