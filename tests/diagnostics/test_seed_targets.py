"""Starter check targets follow the starter-data policy: update unless edited."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from diagnostics.management.commands import seed_targets
from diagnostics.models import Target
from helpcenter.models import Service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def services() -> dict[str, Service]:
    """The starter services, which setup imports from the content before seeding targets."""
    return {
        slug: Service.objects.create(slug=slug, name=name)
        for slug, name in (("chatgpt", "ChatGPT"), ("discord", "Discord"))
    }


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


def test_each_target_is_attached_to_its_service_and_controls_to_none() -> None:
    _seed()
    by_slug = {t.slug: t.service.slug if t.service else None for t in Target.objects.all()}
    assert by_slug["chatgpt-web"] == "chatgpt"
    assert by_slug["discord-web"] == "discord"
    assert by_slug["discord-status"] == "discord"
    assert by_slug["cloudflare-status"] is None  # every service sits behind Cloudflare
    assert by_slug["control-example"] is None


def test_a_target_whose_service_is_missing_is_skipped_not_created_unattached() -> None:
    Service.objects.filter(slug="discord").delete()
    output = _seed()
    assert "Skipped check target discord-web: no service 'discord' here." in output
    assert not Target.objects.filter(slug__startswith="discord-").exists()
    assert Target.objects.filter(slug="chatgpt-web").exists()


def test_an_admins_choice_of_service_is_kept(services: dict[str, Service]) -> None:
    _seed()
    Target.objects.filter(slug="discord-api").update(service=services["chatgpt"])
    output = _seed()
    assert Target.objects.get(slug="discord-api").service == services["chatgpt"]
    assert "Kept your choice of service for check target discord-api." in output


def test_an_install_attached_by_the_migration_follows_the_starter(
    services: dict[str, Service],
) -> None:
    """The migration put every target under ChatGPT and recorded it as seeded, not edited."""
    from helpcenter import starter

    _seed()
    Target.objects.filter(slug="cloudflare-status").update(service=services["chatgpt"])
    starter.remember("target-service", "cloudflare-status", starter.digest({"service": "chatgpt"}))
    _seed()
    assert Target.objects.get(slug="cloudflare-status").service is None
