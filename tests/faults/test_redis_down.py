"""Redis dies and comes back: guides keep loading, checks say so, then work again by themselves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from diagnostics.models import CheckRun
from tests.conftest import WorkerProcess, subprocess_env, wait_for
from tests.faults.conftest import PrivateRedis
from tests.faults.helpers import (
    add_target,
    poll_until_stopped,
    publish_guide,
    run_id_from,
    start_checks,
)


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_serves_guides_through_a_redis_outage_and_recovers_checks_unattended(
    private_redis: PrivateRedis, start_web: Any, edge: Any
) -> None:
    publish_guide()
    add_target(edge.url("/ok"))
    env = {"REDIS_URL": private_redis.url, "HEARTBEAT_SECONDS": "1"}
    worker = WorkerProcess("default,checks.default", subprocess_env(**env), name="redis-fault")
    try:
        worker.wait_ready()
        web = start_web(**env)
        with httpx.Client(base_url=web.url, timeout=30) as browser:
            # Before: the whole path works over this Redis.
            run_id = run_id_from(start_checks(browser))
            assert "All 1 check done" in poll_until_stopped(browser, run_id).text

            private_redis.kill()

            for _ in range(5):
                assert browser.get("/articles/guide/").status_code == 200
            assert browser.get("/").status_code == 200
            assert browser.get("/search/?q=firewall").status_code == 200
            health = browser.get("/healthz/")
            assert health.status_code == 200  # the database is fine: stay in rotation
            assert health.json()["cache"] is False
            during = start_checks(browser)
            assert during.status_code in (200, 286)
            assert "Checks are unavailable right now" in during.text
            latest = CheckRun.objects.order_by("-created_at").first()
            assert latest is not None and latest.state == CheckRun.State.UNAVAILABLE

            # Same port, empty memory: as after a restart without persistence.
            private_redis.start()
            wait_for(lambda: browser.get("/healthz/").json()["cache"], timeout=60, interval=0.2)
            # The worker's heartbeat comes back once it has reconnected.
            wait_for(
                lambda: browser.get("/healthz/").json()["workers"]["ok"], timeout=90, interval=0.5
            )
            edge.reset()
            after = start_checks(browser)
            assert "Checks are unavailable" not in after.text
            final = poll_until_stopped(browser, run_id_from(after))
            assert "All 1 check done" in final.text
            assert edge.hits("/ok") == 1
    finally:
        worker.stop()
        if worker.process.returncode not in (0, -15, None):
            print("\n".join(worker.lines[-60:]))
