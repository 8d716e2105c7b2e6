"""/healthz/: the database decides the status; cache and worker heartbeat are reported."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from diagnostics import heartbeats


@pytest.fixture(autouse=True)
def _no_heartbeat(db: None) -> None:
    cache.delete("checks:heartbeat:default")


@pytest.mark.django_db
def test_it_reports_a_missing_worker_without_leaving_rotation(client: Client) -> None:
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] is True and body["cache"] is True
    assert body["workers"] == {
        "ok": False,
        "regions": {"default": {"seconds_since_heartbeat": None, "live": False}},
    }
    assert body["ok"] is False
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_reports_a_live_worker_from_its_heartbeat(client: Client) -> None:
    heartbeats.beat("default", "worker@test")
    body = client.get("/healthz/").json()
    assert body["workers"]["ok"] is True
    assert body["workers"]["regions"]["default"]["live"] is True
    assert body["ok"] is True


@pytest.mark.django_db
def test_it_lists_every_named_region(client: Client, settings: Any) -> None:
    settings.CHECKS_REGIONS = ["eu", "us"]
    heartbeats.beat("eu", "worker@eu")
    try:
        regions = client.get("/healthz/").json()["workers"]["regions"]
    finally:
        cache.delete("checks:heartbeat:eu")
    assert regions["eu"]["live"] is True
    assert regions["us"] == {"seconds_since_heartbeat": None, "live": False}


@pytest.mark.django_db
def test_it_answers_503_when_the_database_is_unreachable(client: Client, monkeypatch: Any) -> None:
    from helpcenter import views

    monkeypatch.setattr(views, "_database_ok", lambda: False)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["database"] is False
