"""Relevance: how often a set of real queries puts the right page first.

A case names a page as "<article slug>" or "<article slug>/<fix slug>"; the
report gives top-1 (the share of queries whose first hit is that page) and
mean reciprocal rank (1/position of the page, 0 when it is not in the hits).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpcenter.search.snippets import SearchHit


@dataclass(frozen=True)
class Case:
    query: str
    first: str


@dataclass
class Report:
    cases: int = 0
    top1: int = 0
    reciprocal_ranks: float = 0.0
    misses: list[tuple[str, str, list[str]]] = field(default_factory=list)

    @property
    def top1_share(self) -> float:
        return self.top1 / self.cases if self.cases else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.cases if self.cases else 0.0


def load_cases(path: Path) -> list[Case]:
    return [Case(str(row["q"]), str(row["first"])) for row in yaml.safe_load(path.read_text())]


def page_key(hit: SearchHit) -> str:
    return f"{hit.article.slug}/{hit.fix.slug}" if hit.fix is not None else hit.article.slug


def evaluate(cases: Iterable[Case], search: object) -> Report:
    """Run every case through ``search`` (query -> hits) and score the ranking."""
    report = Report()
    for case in cases:
        keys = [page_key(hit) for hit in search(case.query).hits]  # type: ignore[operator]
        report.cases += 1
        if case.first in keys:
            position = keys.index(case.first) + 1
            report.reciprocal_ranks += 1 / position
            report.top1 += position == 1
        if not keys or keys[0] != case.first:
            report.misses.append((case.query, case.first, keys[:3]))
    return report
