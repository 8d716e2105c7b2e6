"""Starter check targets follow the starter-data policy: update unless edited."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from diagnostics.management.commands import seed_targets
from diagnostics.models import Target

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_targets", stdout=out)
    return out.getvalue()


def _first() -> dict[str, Any]:
    return seed_targets.STARTER_TARGETS[0]


def test_it_keeps_an_edit_across_setup() -> None:
    _seed()
    Target.objects.filter(slug=_first()["slug"]).update(name="Our own name")
    output = _seed()
    assert Target.objects.get(slug=_first()["slug"]).name == "Our own name"
    assert f"Kept your edit of check target {_first()['slug']}." in output


def test_it_updates_an_unedited_target_to_a_new_starter(monkeypatch: Any) -> None:
    _seed()
    changed = [{**_first(), "name": "New starter name"}, *seed_targets.STARTER_TARGETS[1:]]
    monkeypatch.setattr(seed_targets, "STARTER_TARGETS", changed)
    assert "1 updated" in _seed()
    assert Target.objects.get(slug=_first()["slug"]).name == "New starter name"


def test_an_edit_reverted_to_the_starter_counts_as_unedited(monkeypatch: Any) -> None:
    _seed()
    target = Target.objects.get(slug=_first()["slug"])
    Target.objects.filter(pk=target.pk).update(name="Temporary")
    Target.objects.filter(pk=target.pk).update(name=target.name)
    _seed()
    changed = [{**_first(), "name": "New starter name"}, *seed_targets.STARTER_TARGETS[1:]]
    monkeypatch.setattr(seed_targets, "STARTER_TARGETS", changed)
    _seed()
    assert Target.objects.get(pk=target.pk).name == "New starter name"
