"""Starter verdict rules follow the starter-data policy: update unless edited."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from diagnostics.management.commands import seed_rules
from diagnostics.models import Rule

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_rules", stdout=out)
    return out.getvalue()


def _first_name() -> str:
    return str(seed_rules.STARTER_RULES[0]["name"])


def _with_new_first_rule(monkeypatch: Any, **changes: Any) -> None:
    changed = [dict(rule) for rule in seed_rules.STARTER_RULES]
    changed[0].update(changes)
    monkeypatch.setattr(seed_rules, "STARTER_RULES", changed)


def test_it_keeps_an_edit_of_a_rule(monkeypatch: Any) -> None:
    _seed()
    Rule.objects.filter(name=_first_name()).update(headline="Our words")
    _with_new_first_rule(monkeypatch, headline="A new starter text")
    output = _seed()
    assert Rule.objects.get(name=_first_name()).headline == "Our words"
    assert f"Kept your edit of verdict rule {_first_name()!r}." in output


def test_it_updates_an_unedited_rule(monkeypatch: Any) -> None:
    _seed()
    _with_new_first_rule(monkeypatch, headline="A new starter text", fixes=[])
    assert "1 updated" in _seed()
    rule = Rule.objects.get(name=_first_name())
    assert rule.headline == "A new starter text"
    assert not rule.rule_fixes.exists()
