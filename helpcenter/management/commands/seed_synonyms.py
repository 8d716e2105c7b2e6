"""Starter synonym sets for search, under the starter policy: edits are kept."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand

from helpcenter.models import SynonymSet
from helpcenter.starter import OUTCOMES, seed_row

STARTER_FILE = Path(__file__).resolve().parents[2] / "content" / "synonyms.yml"


def starter_sets() -> dict[str, str]:
    """name -> the set's terms as the admin shows them ("disable, turn off, ...")."""
    sets = yaml.safe_load(STARTER_FILE.read_text())
    return {str(name): ", ".join(str(term) for term in terms) for name, terms in sets.items()}


class Command(BaseCommand):
    help = "Create missing starter synonym sets; update those nobody edited."

    def handle(self, *args: Any, **options: Any) -> None:
        counts: Counter[str] = Counter()
        for name, terms in starter_sets().items():
            outcome = seed_row(SynonymSet, "synonyms", name, {"name": name}, {"terms": terms})
            if outcome == "kept":
                self.stdout.write(f"Kept your edit of synonym set {name}.")
            counts[outcome] += 1
        summary = ", ".join(f"{counts[what]} {what}" for what in OUTCOMES)
        self.stdout.write(f"Synonym sets: {summary}.")
