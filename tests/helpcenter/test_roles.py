"""The Editor role: writes the knowledge base and the verdict rules, nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from diagnostics.models import Rule, Target
from helpcenter import editing
from tests.helpcenter.admin_forms import change_url, form_data, make_editor, post_back
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

PREVIEW_URL = "/admin/helpcenter/article/preview/"


def _target() -> Target:
    return Target.objects.create(name="Example", slug="example", url="https://example.com/")


def test_migrate_creates_the_editor_group_with_its_permissions() -> None:
    group = Group.objects.get(name=editing.EDITOR_GROUP)
    names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert names == set(editing.EDITOR_PERMISSIONS)
    assert not any(n.startswith("auth.") or n.endswith("_target") for n in names)


def test_seeding_again_changes_nothing() -> None:
    group = Group.objects.get(name=editing.EDITOR_GROUP)
    before = set(group.permissions.values_list("pk", flat=True))
    editing.ensure_editor_group()
    assert Group.objects.filter(name=editing.EDITOR_GROUP).count() == 1
    assert set(group.permissions.values_list("pk", flat=True)) == before


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/helpcenter/article/",
        "/admin/auth/user/",
        "/admin/diagnostics/target/",
        "/admin/diagnostics/rule/",
    ],
)
def test_an_anonymous_visitor_is_sent_to_the_login(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_anonymous_visitor_cannot_preview(client: Any) -> None:
    response = client.post(PREVIEW_URL, {"field": "body", "body": "hi"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_signed_in_visitor_who_is_not_staff_cannot_preview(client: Any) -> None:
    client.force_login(User.objects.create_user("reader", password="x-long-password-1"))
    response = client.post(PREVIEW_URL, {"field": "body", "body": "hi"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_article_permissions_cannot_preview(client: Any) -> None:
    client.force_login(User.objects.create_user("staff", is_staff=True))
    assert client.post(PREVIEW_URL, {"field": "body", "body": "hi"}).status_code == 403


def test_an_editor_edits_articles_and_previews(client: Any) -> None:
    client.force_login(make_editor())
    article = make_article()
    assert client.post(change_url(article), form_data(article, title="Edited")).status_code == 302
    article.refresh_from_db()
    assert article.title == "Edited"
    preview = client.post(PREVIEW_URL, {"field": "body", "body": "**hi**"}, HTTP_HX_REQUEST="1")
    assert preview.status_code == 200 and b"<strong>hi</strong>" in preview.content


@pytest.mark.django_db
def test_the_admin_is_named_after_the_site(client: Any, settings: Any) -> None:
    settings.SITE_NAME = "Example Help"
    client.force_login(make_editor())
    page = client.get("/admin/").content.decode()
    assert '<a href="/admin/">Example Help: editing</a>' in page
    assert "<title>Guides, checks and notices | Example Help editing</title>" in page
    assert "Django administration" not in page


def test_an_editor_edits_a_rule(client: Any) -> None:
    client.force_login(make_editor())
    rule = Rule.objects.create(name="Blocked", code="blocked", headline="You are blocked")
    response = post_back(client, f"/admin/diagnostics/rule/{rule.pk}/change/", name="Renamed")
    assert response.status_code == 302, response.context["adminform"].form.errors
    rule.refresh_from_db()
    assert rule.name == "Renamed"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/diagnostics/target/",
        "/admin/diagnostics/target/add/",
    ],
)
def test_an_editor_cannot_manage_users_or_targets(client: Any, url: str) -> None:
    client.force_login(make_editor())
    assert client.get(url).status_code == 403


def test_an_editor_cannot_change_a_target(client: Any) -> None:
    client.force_login(make_editor())
    target = _target()
    assert client.get(f"/admin/diagnostics/target/{target.pk}/change/").status_code == 403


def test_an_admin_can_do_everything(client: Any) -> None:
    client.force_login(User.objects.create_superuser("root", password="x-long-password-1"))
    target = _target()
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get(f"/admin/diagnostics/target/{target.pk}/change/").status_code == 200
    assert client.post(PREVIEW_URL, {"field": "body", "body": "x"}).status_code == 200


def test_admin_sign_in_is_throttled_per_username_and_client(client: Any) -> None:
    User.objects.create_user("ed", password="the-right-password-9", is_staff=True)
    for _ in range(5):
        wrong = client.post("/admin/login/", {"username": "ed", "password": "guess"})
        assert "Please enter the correct username and password" in wrong.content.decode()
    refused = client.post("/admin/login/", {"username": "ed", "password": "the-right-password-9"})
    assert refused.status_code == 200
    assert "Too many failed sign-ins for this username" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another client address is counted separately.
    other = client.post(
        "/admin/login/",
        {"username": "ed", "password": "the-right-password-9"},
        REMOTE_ADDR="192.0.2.7",
    )
    assert other.status_code == 302


def test_a_successful_sign_in_clears_the_count(client: Any) -> None:
    User.objects.create_user("ed", password="the-right-password-9", is_staff=True)
    for _ in range(4):
        client.post("/admin/login/", {"username": "ed", "password": "guess"})
    assert (
        client.post(
            "/admin/login/", {"username": "ed", "password": "the-right-password-9"}
        ).status_code
        == 302
    )
    client.logout()
    for _ in range(4):
        client.post("/admin/login/", {"username": "ed", "password": "guess"})
    ok = client.post("/admin/login/", {"username": "ed", "password": "the-right-password-9"})
    assert ok.status_code == 302


def test_sign_in_works_when_the_cache_is_down(client: Any, settings: Any, caplog: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    User.objects.create_user("ed", password="the-right-password-9", is_staff=True)
    client.post("/admin/login/", {"username": "ed", "password": "guess"})
    ok = client.post("/admin/login/", {"username": "ed", "password": "the-right-password-9"})
    assert ok.status_code == 302
    assert "login throttle skipped: cache unavailable" in caplog.text
