"""The daily visitor hash and the run rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from diagnostics.visitors import allow_run
from helpcenter.clients import hash_address, visitor_hash


@pytest.fixture(autouse=True)
def fresh_cache(db: None) -> None:
    cache.clear()


def test_the_hash_rotates_daily_and_hides_the_address() -> None:
    today = hash_address("203.0.113.7", "2026-03-01")
    assert today == hash_address("203.0.113.7", "2026-03-01")
    assert today != hash_address("203.0.113.7", "2026-03-02")
    assert today != hash_address("203.0.113.8", "2026-03-01")
    assert "203.0.113.7" not in today and len(today) == 64


def test_the_hash_depends_on_the_secret(settings: Any) -> None:
    before = hash_address("203.0.113.7", "2026-03-01")
    settings.SECRET_KEY = "another-secret-" * 5
    assert hash_address("203.0.113.7", "2026-03-01") != before


def test_it_reads_the_client_address_from_the_request() -> None:
    one = RequestFactory().get("/", REMOTE_ADDR="198.51.100.1")
    two = RequestFactory().get("/", REMOTE_ADDR="198.51.100.2")
    assert visitor_hash(one) != visitor_hash(two)


def test_a_visitor_is_refused_past_the_limit_until_the_window_ends(settings: Any) -> None:
    settings.CHECKS_RATE_PER_VISITOR = 3
    settings.CHECKS_RATE_VISITOR_WINDOW = 600
    now = 1_800_000_000.0  # 120 s into a 600 s window
    assert all(allow_run("v1", now).allowed for _ in range(3))
    refused = allow_run("v1", now)
    assert not refused.allowed and refused.scope == "visitor"
    assert refused.retry_after == 600 - (int(now) % 600)
    assert allow_run("v2", now).allowed  # someone else is not affected
    assert allow_run("v1", now + refused.retry_after).allowed  # the next window


def test_everyone_together_is_limited_too(settings: Any) -> None:
    settings.CHECKS_RATE_GLOBAL = 2
    now = 1_800_000_000.0
    assert allow_run("a", now).allowed and allow_run("b", now).allowed
    refused = allow_run("c", now)
    assert not refused.allowed and refused.scope == "everyone"


def test_a_failing_cache_lets_runs_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache is down")

    monkeypatch.setattr(cache, "add", broken)
    assert allow_run("v1").allowed
