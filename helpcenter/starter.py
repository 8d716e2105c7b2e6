"""Starter data's one policy: create what is missing, update only what nobody edited.

Each kind of starter data (targets, rules, ...) calls ``seed_row`` per row with
the values its seed code holds now; the digest of what was last seeded tells an
untouched row (safe to update) from an edited one (kept).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import models

from helpcenter.models import SeededRow

Outcome = Literal["created", "updated", "unchanged", "kept"]
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "kept")


@dataclass
class Links:
    """Rows hanging off a seeded row (a rule's fixes): part of its content and its digest."""

    wanted: Any
    read: Callable[[Any], Any]
    write: Callable[[Any, Any], None]


def digest(values: dict[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def seed_row(
    model: type[models.Model],
    kind: str,
    key: str,
    lookup: dict[str, Any],
    values: dict[str, Any],
    *,
    links: Links | None = None,
    overwrite: bool = False,
) -> Outcome:
    """Bring one row to its starter ``values`` unless someone changed it since last seeded."""
    wanted = _digest(values, links.wanted if links else None)
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        row = model._default_manager.create(**lookup, **values)
        if links:
            links.write(row, links.wanted)
        _remember(kind, key, wanted)
        return "created"
    now = {name: getattr(row, name) for name in values}
    current = _digest(now, links.read(row) if links else None)
    if current == wanted:
        # Also covers an edit reverted to the starter text: it counts as unedited.
        _remember(kind, key, wanted)
        return "unchanged"
    seeded = SeededRow.objects.filter(kind=kind, key=key).values_list("digest", flat=True)
    if not overwrite and current not in seeded:
        return "kept"
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    if links:
        links.write(row, links.wanted)
    _remember(kind, key, wanted)
    return "updated"


def _digest(values: dict[str, Any], linked: Any) -> str:
    return digest(values if linked is None else {"values": values, "links": linked})


def _remember(kind: str, key: str, value: str) -> None:
    SeededRow.objects.update_or_create(kind=kind, key=key, defaults={"digest": value})
