"""Atom feeds of state changes: per target and for all, with nothing personal in them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from diagnostics.models import StateChange, Target
from notices.models import Subscription
from tests.diagnostics.test_coalesce import unique_target

ATOM = "{http://www.w3.org/2005/Atom}"


def change(target: Target, minutes_ago: int, from_state: str, to_state: str) -> StateChange:
    return StateChange.objects.create(
        target=target,
        region="default",
        at=timezone.now() - timedelta(minutes=minutes_ago),
        from_state=from_state,
        to_state=to_state,
        evidence=f"3 checks in a row from default (http): now {to_state}",
    )


def entries(client: Any, url: str) -> list[ElementTree.Element]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ElementTree.fromstring(response.content).findall(f"{ATOM}entry")


@pytest.mark.django_db
def test_the_target_feed_lists_its_changes_newest_first(client: Any, edge: Any) -> None:
    target = unique_target(edge, "/ok")
    other = unique_target(edge, "/ok")
    change(target, 30, "ok", "down")
    change(target, 10, "down", "ok")
    change(other, 5, "ok", "blocked")
    found = entries(client, f"/status/{target.slug}/changes.atom")
    titles = [entry.findtext(f"{ATOM}title") for entry in found]
    assert titles == [f"{target.name}: down → up", f"{target.name}: up → down"]
    link = found[0].find(f"{ATOM}link")
    assert link is not None and link.get("href") == f"http://testserver/status/{target.slug}/"
    assert "now ok" in (found[0].findtext(f"{ATOM}summary") or "")


@pytest.mark.django_db
def test_the_all_feed_holds_every_target(client: Any, edge: Any) -> None:
    target = unique_target(edge, "/ok")
    other = unique_target(edge, "/ok")
    change(target, 30, "ok", "down")
    change(other, 5, "ok", "blocked")
    titles = [e.findtext(f"{ATOM}title") for e in entries(client, "/status/changes.atom")]
    assert f"{other.name}: up → turning our server away" in titles
    assert f"{target.name}: up → down" in titles


@pytest.mark.django_db
def test_feeds_hold_no_subscriber_address(client: Any, edge: Any) -> None:
    target = unique_target(edge, "/ok")
    change(target, 10, "down", "ok")
    Subscription.objects.create(email="reader@example.org", target=target)
    for url in ("/status/changes.atom", f"/status/{target.slug}/changes.atom"):
        body = client.get(url).content.decode()
        assert "reader@example.org" not in body and "@" not in body.split("<entry>", 1)[1]


@pytest.mark.django_db
def test_a_control_or_unknown_target_has_no_feed(client: Any, edge: Any) -> None:
    control = unique_target(edge, "/ok", kind=Target.Kind.CONTROL)
    assert client.get(f"/status/{control.slug}/changes.atom").status_code == 404
    assert client.get("/status/no-such-thing/changes.atom").status_code == 404
