"""The article page's connect-src: 'self' plus exactly the browser-check targets' origins."""

from __future__ import annotations

from typing import Any

import pytest

from diagnostics import csp
from diagnostics.models import Target
from tests.helpcenter.factories import make_article


def connect_src(response: Any) -> list[str]:
    policy = response["Content-Security-Policy"]
    for directive in policy.split(";"):
        name, _, values = directive.strip().partition(" ")
        if name == "connect-src":
            return values.split()
    raise AssertionError(f"no connect-src in {policy!r}")


@pytest.fixture(autouse=True)
def _fresh_origins() -> Any:
    csp.forget_origins()
    yield
    csp.forget_origins()


def browser_targets() -> None:
    Target.objects.create(name="App", slug="app", url="https://app.example/", browser_check=True)
    Target.objects.create(
        name="Ctl", slug="ctl", url="https://ctl.example/",
        browser_url="http://127.0.0.1:8123/ping", browser_check=True, kind=Target.Kind.CONTROL,
    )  # fmt: skip
    Target.objects.create(name="Api", slug="api", url="https://api.example/")
    Target.objects.create(
        name="Off", slug="off", url="https://off.example/", browser_check=True, enabled=False
    )


@pytest.mark.django_db
def test_the_article_page_allows_exactly_the_browser_check_origins(client: Any) -> None:
    make_article()
    browser_targets()
    for url in ("/articles/access-denied/", "/articles/access-denied/fix/step-1/"):
        response = client.get(url)
        assert response.status_code == 200
        assert connect_src(response) == ["'self'", "http://127.0.0.1:8123", "https://app.example"]
        assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_other_pages_keep_connect_src_self(client: Any) -> None:
    make_article()
    browser_targets()
    assert connect_src(client.get("/")) == ["'self'"]
    assert connect_src(client.get("/status/")) == ["'self'"]


@pytest.mark.django_db
def test_the_origins_are_cached_briefly(client: Any) -> None:
    make_article()
    browser_targets()
    client.get("/articles/access-denied/")
    Target.objects.filter(slug="app").update(enabled=False)
    # Within the cache window the page still names the old list (no query per view).
    assert "https://app.example" in connect_src(client.get("/articles/access-denied/"))
    csp.forget_origins()
    assert "https://app.example" not in connect_src(client.get("/articles/access-denied/"))


@pytest.mark.django_db
def test_it_fails_open_to_self_when_the_database_fails(monkeypatch: Any) -> None:
    from django.db import DatabaseError

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("down")

    monkeypatch.setattr(csp, "browser_targets", broken)
    assert csp.cached_origins() == []


@pytest.mark.django_db
def test_the_base_template_loads_the_browser_checks_script(client: Any) -> None:
    make_article()
    html = client.get("/articles/access-denied/").content.decode()
    assert "js/checks" in html and "defer" in html
