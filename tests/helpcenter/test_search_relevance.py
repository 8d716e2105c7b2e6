"""Relevance over the shipped guides: real queries must put the right page first.

The set lives in bench/search_relevance.yml (bench/search.py reports the same
figures); it runs on whichever backend DATABASE_URL picks, so CI holds it on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from helpcenter import search as site_search
from helpcenter.search.relevance import evaluate, load_cases

CASES = load_cases(Path(__file__).parents[2] / "bench" / "search_relevance.yml")

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_guides(db: None) -> None:
    call_command("import_content", verbosity=0)
    call_command("seed_synonyms", verbosity=0)
    site_search.rebuild()


def test_the_set_is_large_enough_to_mean_something() -> None:
    assert len(CASES) >= 40


def test_top1_holds_ninety_percent(shipped_guides: None) -> None:
    report = evaluate(CASES, site_search.search)
    misses = "\n".join(f"  {q!r}: wanted {want}, got {got}" for q, want, got in report.misses)
    assert report.top1_share >= 0.9, (
        f"top-1 {report.top1_share:.0%}, MRR {report.mrr:.2f}\n{misses}"
    )
