"""Rate limits hold per client address behind trusted proxies, and answer 429 with Retry-After."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpcenter.models import Article


@pytest.fixture(autouse=True)
def _fresh_counters(db: None) -> None:
    cache.clear()


def _from(address: str) -> dict[str, str]:
    return {"HTTP_X_FORWARDED_FOR": f"{address}, 10.0.0.2"}


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.TRUSTED_PROXY_COUNT = 2  # visitor, then the proxy's own hop


@pytest.mark.django_db
def test_run_starts_are_limited_per_visitor(client: Client, settings: Any, behind_proxy: None):
    settings.CHECKS_RATE_PER_VISITOR = 3
    codes = [client.post("/checks/", {}, **_from("203.0.113.7")).status_code for _ in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    limited = client.post("/checks/", {}, **_from("203.0.113.7"))
    assert int(limited["Retry-After"]) > 0
    assert "try again in about" in limited.content.decode()
    # Another visitor behind the same proxy is not punished for the first one.
    assert client.post("/checks/", {}, **_from("198.51.100.9")).status_code == 302


@pytest.mark.django_db
def test_run_starts_have_a_global_ceiling(client: Client, settings: Any, behind_proxy: None):
    # Only runs that will send traffic count against it (a run answered from fresh or
    # in-flight results sends nothing): each press here meets a target configuration
    # nothing has probed yet.
    from diagnostics.models import Target

    settings.CHECKS_RATE_GLOBAL = 4
    target = Target.objects.create(
        name="Service", slug="service", url="https://service.example/", probes=["http"]
    )
    codes = []
    for i in range(6):
        target.url = f"https://service.example/{i}"
        target.save()
        codes.append(client.post("/checks/", {}, **_from(f"203.0.113.{i}")).status_code)
    assert codes.count(429) == 2 and codes[:4] == [302] * 4


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_reset_the_limit(
    client: Client, settings: Any, behind_proxy: None
) -> None:
    # Whatever the client writes on the left, the proxy appends the real address.
    settings.CHECKS_RATE_PER_VISITOR = 2
    codes = []
    for i in range(4):
        header = f"1.2.3.{i}, 203.0.113.7, 10.0.0.2"
        codes.append(client.post("/checks/", {}, HTTP_X_FORWARDED_FOR=header).status_code)
    assert codes == [302, 302, 429, 429]


@pytest.mark.django_db
def test_search_is_limited_per_client(client: Client, settings: Any, behind_proxy: None) -> None:
    settings.SEARCH_RATE_LIMIT = 3
    me = _from("203.0.113.7")
    codes = [client.get("/search/?q=firewall", **me).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limited = client.get("/search/?q=firewall", **_from("203.0.113.7"))
    assert int(limited["Retry-After"]) > 0
    assert limited["Cache-Control"] == "no-store"  # a shared cache must not keep the refusal
    assert client.get("/search/?q=firewall", **_from("198.51.100.9")).status_code == 200


@pytest.mark.django_db
def test_fix_votes_are_limited_per_client(client: Client, settings: Any, behind_proxy: None):
    settings.VOTE_RATE_PER_HOUR = 2
    article = Article.objects.create(
        title="Guide", slug="guide", body="x", status="published", published_at=timezone.now()
    )
    fix = article.fixes.create(title="Clear cookies", slug="clear-cookies", body="Do it.")
    url = reverse("fix_vote", kwargs={"slug": article.slug, "fix_slug": fix.slug})
    codes = [
        client.post(url, {"helpful": "yes"}, **_from("203.0.113.7")).status_code for _ in range(4)
    ]
    assert codes[:2] != [429, 429] and codes[2:] == [429, 429]


@pytest.mark.django_db
def test_admin_login_is_throttled_against_guessing(client: Client) -> None:
    from django.contrib.auth.models import User

    User.objects.create_superuser("editor", "editor@example.invalid", "right-password-123")
    for _ in range(5):
        wrong = client.post("/admin/login/", {"username": "editor", "password": "wrong"})
        assert wrong.status_code == 200
    # Even the right password is refused while the wait lasts: guessing gains nothing.
    refused = client.post("/admin/login/", {"username": "editor", "password": "right-password-123"})
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
