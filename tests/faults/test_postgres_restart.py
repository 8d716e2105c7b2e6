"""PostgreSQL restarts under a running site: gunicorn recovers on its own, no restart needed."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, subprocess_env, wait_for
from tests.faults.conftest import PrivatePostgres

CREATE_GUIDE = """
from django.utils import timezone
from helpcenter.models import Article
Article.objects.create(title="Guide", slug="guide", body="## Hello {#hello}",
                       status="published", published_at=timezone.now())
"""


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_site_recovers_by_itself_after_postgres_restarts(
    private_postgres: PrivatePostgres, start_web: Any
) -> None:
    env = subprocess_env(DATABASE_URL=private_postgres.url())
    env.pop("REDIS_URL", None)  # the database cache: the restart hits it too
    private_postgres.migrate(env)
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", CREATE_GUIDE],
        cwd=ROOT, env=env, check=True, timeout=120,
    )  # fmt: skip
    web = start_web(DATABASE_URL=private_postgres.url(), REDIS_URL="")

    with httpx.Client(base_url=web.url, timeout=30) as browser:
        # Several requests, so the worker's threads all hold persistent connections
        # (CONN_MAX_AGE) that the restart is about to cut.
        for _ in range(8):
            assert browser.get("/articles/guide/").status_code == 200
        assert browser.get("/healthz/").json()["database"] is True

        private_postgres.restart()

        # CONN_HEALTH_CHECKS: each request checks its thread's connection before the
        # first query and replaces a dead one, so not even the first request fails.
        statuses = [browser.get("/articles/guide/").status_code for _ in range(12)]
        assert statuses == [200] * 12
        wait_for(lambda: browser.get("/healthz/").status_code == 200, timeout=30)
        assert browser.get("/healthz/").json()["database"] is True
