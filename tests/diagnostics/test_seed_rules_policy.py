"""Starter verdict rules follow the starter-data policy: update unless edited."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from diagnostics.management.commands import seed_rules
from diagnostics.models import CheckRun, Rule
from helpcenter.models import Article, Fix, Service

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


# --- Fix links for every service --------------------------------------------------


def _stub_guides(skip: tuple[str, ...] = ()) -> None:
    """Every guide and fix the starter rules link, each own guide under its service."""
    services = {
        slug: Service.objects.get_or_create(slug=slug, defaults={"name": slug})[0]
        for slug in set(seed_rules.OWN_GUIDES.values())
    }
    for spec in seed_rules.STARTER_RULES:
        for order, (article_slug, fix_slug) in enumerate(spec["fixes"]):
            if article_slug in skip:
                continue
            owner = seed_rules.OWN_GUIDES.get(article_slug)
            article, _ = Article.objects.get_or_create(
                slug=article_slug,
                defaults={"title": article_slug, "status": "published",
                          "published_at": timezone.now(),
                          "service": services[owner] if owner else None},
            )  # fmt: skip
            Fix.objects.get_or_create(
                article=article, slug=fix_slug, defaults={"title": fix_slug, "order": order}
            )


def _fixes_for(service: Service | None, answer: str = "block_1020") -> list[tuple[str, str]]:
    run = CheckRun.objects.create(service=service, state=CheckRun.State.COMPLETE)
    run.record_answer(answer, "")
    verdict = CheckRun.objects.get(pk=run.pk).verdict([])
    return [(fix.url.split("/")[2], fix.slug) for fix in verdict.fixes]


def test_the_general_guides_fixes_are_linked_once_it_is_imported_not_read_as_an_edit() -> None:
    _stub_guides(skip=(seed_rules.G1020,))
    output = _seed()
    assert "Fixes not found, linked once their guides are imported: 7" in output
    rule = Rule.objects.get(name=_first_name())
    assert rule.rule_fixes.count() == 7  # ChatGPT's own, the rule works meanwhile

    _stub_guides()  # the general 1020 guide arrives with a later content import
    output = _seed()
    assert "Kept your edit" not in output
    assert "Fixes not found" not in output
    assert rule.rule_fixes.count() == 14
    assert "0 kept" in output


def test_an_install_seeded_before_the_general_links_takes_them(monkeypatch: Any) -> None:
    """The rules an install seeded before services existed linked only ChatGPT's guides:
    their recorded digests must read as unedited, so the longer lists replace them."""
    _stub_guides()
    before = []
    for spec in seed_rules.STARTER_RULES:
        own = [link for link in spec["fixes"] if link[0] in seed_rules.OWN_GUIDES]
        before.append({**spec, "fixes": own or spec["fixes"]})
    with monkeypatch.context() as patched:
        patched.setattr(seed_rules, "STARTER_RULES", before)
        _seed()
    output = _seed()
    assert "Kept your edit" not in output
    for spec in seed_rules.STARTER_RULES:
        linked = Rule.objects.get(name=spec["name"]).rule_fixes.count()
        assert linked == len(spec["fixes"]), spec["name"]


def test_each_service_gets_its_own_fixes_or_the_general_ones() -> None:
    _stub_guides()
    _seed()
    chatgpt = Service.objects.get(slug="chatgpt")
    discord = Service.objects.create(slug="discord", name="Discord")
    own = [(seed_rules.A1020, slug) for _, slug in seed_rules.FIXES_1020[:7]]
    assert _fixes_for(chatgpt) == own
    assert {article for article, _ in _fixes_for(discord)} == {seed_rules.G1020}
    assert [slug for _, slug in _fixes_for(discord)][-1] == "contact-site-with-ray-id"
    # Down for everyone, and nothing loads: the same advice never twice.
    for service in (chatgpt, discord):
        slugs = [slug for _, slug in _fixes_for(service, "no_load")]
        assert len(slugs) == len(set(slugs)) == 4


def test_the_own_guides_named_here_are_those_guides_services() -> None:
    """starter_rule_data reads OWN_GUIDES without a database: it must say what the content does."""
    root = Path(__file__).resolve().parents[2] / "helpcenter" / "content" / "articles"
    for slug, service in seed_rules.OWN_GUIDES.items():
        text = (root / slug / "index.md").read_text(encoding="utf-8")
        assert f"\nservice: {service}\n" in text, slug


def test_no_starter_rule_names_a_service_or_asks_for_one() -> None:
    """Every starter rule answers runs about any service, in words that fit any service."""
    names = [str(item["name"]) for item in _shipped_services()]
    for spec in seed_rules.STARTER_RULES:
        assert "service" not in spec, spec["name"]
        for text in (spec["headline"], spec.get("explanation", "")):
            assert not any(name.lower() in text.lower() for name in names), spec["name"]


def _shipped_services() -> list[dict[str, Any]]:
    root = Path(__file__).resolve().parents[2] / "helpcenter" / "content"
    return list(yaml.safe_load((root / "services.yml").read_text(encoding="utf-8")))


def test_the_starter_content_has_every_fix_the_rules_link_and_each_service_its_own() -> None:
    call_command("import_content", verbosity=0)
    output = _seed()
    assert "Fixes not found" not in output
    chatgpt, discord = Service.objects.get(slug="chatgpt"), Service.objects.get(slug="discord")
    assert {article for article, _ in _fixes_for(chatgpt)} == {seed_rules.A1020}
    general = CheckRun.objects.create(service=discord, state=CheckRun.State.COMPLETE)
    general.record_answer("block_1020", "")
    fixes = CheckRun.objects.get(pk=general.pk).verdict([]).fixes
    assert {fix.url.split("/")[2] for fix in fixes} == {seed_rules.G1020}
    # The general guide's fixes are written for any service.
    assert not any("chatgpt" in fix.title.lower() or "openai" in fix.title.lower() for fix in fixes)
