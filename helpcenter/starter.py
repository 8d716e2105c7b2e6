"""Starter data's one policy: create what is missing, update only what nobody edited.

Each kind of starter data (targets, rules, ...) calls ``seed_row`` per row with
the values its seed code holds now; the digest of what was last seeded tells an
untouched row (safe to update) from an edited one (kept).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable
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


def digest(values: Any) -> str:
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
        remember(kind, key, wanted)
        return "created"
    now = {name: getattr(row, name) for name in values}
    current = _digest(now, links.read(row) if links else None)
    outcome = decide(current, wanted, seeded_digests(kind, [key]), overwrite=overwrite)
    if outcome == "kept":
        return outcome
    if outcome == "updated":
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        if links:
            links.write(row, links.wanted)
    remember(kind, key, wanted)
    return outcome


def seed_value(
    kind: str,
    keys: list[str],
    name: str,
    current: Any,
    wanted: Any,
    *,
    fresh: bool = False,
    overwrite: bool = False,
) -> tuple[Outcome, bool]:
    """The policy for one value kept as a starter row of its own; the caller applies "updated".

    For a value added to a kind of row after installs already seeded it (which
    service a guide or a target is about): in the row's own digest, every
    existing row would read as edited. ``keys[0]`` is the key now, the rest
    older ones; ``fresh``: the row was created just now, so its value is not an
    edit. Remembers the wanted value unless the outcome is "kept". The flag:
    an update replaces someone's edit (only with ``overwrite``).
    """
    goal, now = digest({name: wanted}), digest({name: current})
    seeded = seeded_digests(kind, keys)
    if fresh:
        seeded.add(now)
    outcome = decide(now, goal, seeded, overwrite=overwrite)
    if outcome != "kept":
        remember(kind, keys[0], goal)
        if keys[1:]:
            forget(kind, keys[1:])
    return outcome, outcome == "updated" and now not in seeded


def decide(
    current: str, wanted: str, seeded: Collection[str], *, overwrite: bool = False
) -> Outcome:
    """The policy for an existing row whose content digests to ``current``.

    ``seeded`` holds the digests setup wrote to it before: content still equal
    to one of them is untouched since, anything else is someone's edit.
    """
    if current == wanted:
        # Also covers an edit reverted to the starter text: it counts as unedited.
        return "unchanged"
    if current in seeded or overwrite:
        return "updated"
    return "kept"


def seeded_digests(kind: str, keys: Iterable[str]) -> set[str]:
    rows = SeededRow.objects.filter(kind=kind, key__in=list(keys))
    return set(rows.values_list("digest", flat=True))


def remember(kind: str, key: str, value: str) -> None:
    SeededRow.objects.update_or_create(kind=kind, key=key, defaults={"digest": value})


def remember_present(row: models.Model, kind: str, key: str, names: Iterable[str]) -> None:
    """Take a row's present values as what setup last wrote to it.

    For a program's own change (the demo points targets at its stand-ins): the
    next seed then counts it as untouched and updates it, instead of keeping it
    as if an editor had made it.
    """
    remember(kind, key, _digest({name: getattr(row, name) for name in names}, None))


def forget(kind: str, keys: Iterable[str]) -> None:
    SeededRow.objects.filter(kind=kind, key__in=list(keys)).delete()


def _digest(values: dict[str, Any], linked: Any) -> str:
    return digest(values if linked is None else {"values": values, "links": linked})
