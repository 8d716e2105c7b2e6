"""docker-compose.yml as an executable spec: the stack comes up natively, twice, on one set of data.

tests/compose_native.py reads docker-compose.yml, .env.example and the Dockerfile
and runs every service's own command and health check on this machine, in
dependency order, with only the substitutions docs/operations.md lists. Then the
site is asked for through nginx as its configured host: directly over plain HTTP
(.env.example's HTTPS settings redirect) and as the documented TLS proxy would
forward it (the page itself). The stack is stopped and started again on the same
database and volumes: setup must neither duplicate nor lose anything.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from diagnostics.standins import nginx
from tests.compose_native import NativeStack, PostgresServer, example_env
from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.timeout(600)]

# Rows setup creates and a restart must leave exactly as they were.
CONTENT_TABLES = (
    "auth_user",
    "django_migrations",
    "helpcenter_category",
    "helpcenter_article",
    "helpcenter_fix",
    "helpcenter_faqentry",
    "helpcenter_seededrow",
    "diagnostics_target",
    "diagnostics_rule",
    "diagnostics_rulefix",
)


def postgres_server() -> PostgresServer:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        skip_or_fail("needs PostgreSQL (set DATABASE_URL): the compose stack runs on PostgreSQL")
    return PostgresServer.from_url(url)


def require_binaries() -> None:
    for binary in ("redis-server", "redis-cli", "pg_isready", "wget"):
        if shutil.which(binary) is None:
            skip_or_fail(f"{binary} is not installed (the compose services' stand-ins use it)")
    if not nginx.available():
        skip_or_fail(f"nginx is not installed at {nginx.NGINX}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[NativeStack]:
    require_binaries()
    native = NativeStack(example_env(), postgres_server(), tmp_path / "stack")
    try:
        yield native
    finally:
        native.destroy()


class Site:
    """Requests to nginx for the configured host, plain or as the TLS proxy forwards them."""

    def __init__(self, stack: NativeStack) -> None:
        self.host = stack.env_file["ALLOWED_HOSTS"].split(",")[0].strip()
        proxy = stack.services["nginx"].proxy
        assert proxy is not None
        self.client = httpx.Client(base_url=proxy.url, timeout=30, headers={"Host": self.host})
        # Secure cookies, kept by hand: the client itself speaks plain HTTP to nginx.
        self.cookies: dict[str, str] = {}

    def plain(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def proxied(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Forwarded-Proto": "https", **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.client.request(method, path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            assert "secure" in header.lower(), f"cookie sent without Secure over HTTPS: {header}"
            self.cookies[name] = rest.split(";")[0]
        return response

    def log_in(self, username: str, password: str) -> httpx.Response:
        form = self.proxied("GET", "/admin/login/")
        assert form.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None
        origin = f"https://{self.host}"
        return self.proxied(
            "POST",
            "/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": password,
            },
            headers={"Origin": origin, "Referer": f"{origin}/admin/login/"},
        )


def row_counts(stack: NativeStack) -> dict[str, int]:
    with stack.postgres.connect(stack.database) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in CONTENT_TABLES
        }


def published_article(stack: NativeStack) -> tuple[str, str]:
    with stack.postgres.connect(stack.database) as conn:
        row = conn.execute(
            "SELECT slug, title FROM helpcenter_article WHERE status = 'published' "
            "ORDER BY id LIMIT 1"
        ).fetchone()
    assert row is not None, "setup loaded no published article"
    return row[0], row[1]


def check_site(stack: NativeStack) -> None:
    """What a visitor and the admin get through nginx, with and without the TLS proxy."""
    site = Site(stack)
    slug, title = published_article(stack)

    # Straight to nginx over plain HTTP: .env.example's HTTPS settings send it to https.
    direct = site.plain(f"/articles/{slug}/")
    assert direct.status_code == 301, direct.text[:500]
    assert direct.headers["location"] == f"https://{site.host}/articles/{slug}/"

    # Through the TLS proxy: the forwarded scheme reaches Django, no redirect loop.
    for path in ("/", f"/articles/{slug}/"):
        page = site.proxied("GET", path)
        assert page.status_code == 200, (path, page.status_code, page.text[:500])
        assert "max-age=" in page.headers.get("strict-transport-security", ""), page.headers
    assert html.escape(title) in page.text

    username = stack.env_file["ADMIN_USERNAME"]
    login = site.log_in(username, stack.env_file["ADMIN_PASSWORD"])
    assert login.status_code == 302, login.text[:2000]
    assert login.headers["location"] == "/admin/"
    admin = site.proxied("GET", "/admin/")
    assert admin.status_code == 200
    assert f"<strong>{username}</strong>" in admin.text
    site.client.close()


def test_the_compose_stack_comes_up_natively_and_again_on_the_same_data(
    stack: NativeStack,
) -> None:
    stack.up()
    print(f"first start, seconds until healthy: {stack.healthy_after}")
    check_site(stack)
    first = row_counts(stack)
    web_log = stack.services["web"].log
    for table in CONTENT_TABLES:
        assert first[table] > 0, f"setup left {table} empty"

    # Someone edits a starter target between the starts: setup must keep the edit.
    with stack.postgres.connect(stack.database) as conn:
        conn.execute("UPDATE diagnostics_target SET name = 'Edited by a person' WHERE id = "
                     "(SELECT min(id) FROM diagnostics_target)")  # fmt: skip

    stack.down()
    assert all(stack.stopped_by_themselves.values()), (
        f"not stopped by SIGTERM within the grace period: {stack.stopped_by_themselves}"
    )
    stack.up()
    print(f"second start, seconds until healthy: {stack.healthy_after}")
    check_site(stack)

    assert row_counts(stack) == first
    with stack.postgres.connect(stack.database) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM diagnostics_target ORDER BY id")]
        superusers = conn.execute(
            "SELECT count(*) FROM auth_user WHERE username = %s AND is_superuser",
            [stack.env_file["ADMIN_USERNAME"]],
        ).fetchone()[0]
    assert names[0] == "Edited by a person"
    assert superusers == 1

    log = web_log.read_text()
    assert log.count("Created admin login") == 1
    assert "Admin login: admin" in log  # the second start found it
    # A password the operator gave never reaches the log.
    assert stack.env_file["ADMIN_PASSWORD"] not in log
