"""A worker killed mid-run: the run is redelivered, or closed as interrupted, never stuck."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from diagnostics import runs
from diagnostics.models import CheckRun, ProbeResult
from diagnostics.tasks import close_stale_runs
from tests.conftest import WorkerProcess, subprocess_env, wait_for
from tests.faults.conftest import PrivateRedis
from tests.faults.helpers import add_target, run_id_from, start_checks


def _kill(worker: WorkerProcess) -> None:
    # The thread pool runs tasks inside the worker process itself: one SIGKILL takes
    # the worker and its task down together, with no chance to acknowledge or clean up.
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=15)


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_is_redelivered_to_another_worker(
    private_redis: PrivateRedis, start_web: Any, edge: Any
) -> None:
    # A probe that takes 3 s, so the worker is certainly mid-run when it dies.
    target = add_target(edge.url("/slow?ms=3000"), timeout_seconds=4)
    env = subprocess_env(
        REDIS_URL=private_redis.url,
        # Unacknowledged messages come back after this long (300 s in production).
        CELERY_VISIBILITY_TIMEOUT="4",
    )
    first = WorkerProcess("default,checks.default", env, name="doomed")
    second: WorkerProcess | None = None
    try:
        first.wait_ready()
        web = start_web(REDIS_URL=private_redis.url)
        with httpx.Client(base_url=web.url, timeout=30) as browser:
            run = CheckRun.objects.get(pk=run_id_from(start_checks(browser)))
        wait_for(lambda: edge.hits("/slow") == 1, timeout=60)
        _kill(first)
        assert not ProbeResult.objects.filter(run=run).exists()

        second = WorkerProcess("default,checks.default", env, name="survivor")
        second.wait_ready()
        wait_for(
            lambda: CheckRun.objects.get(pk=run.pk).state == CheckRun.State.COMPLETE,
            timeout=120,
            interval=0.2,
        )
        result = ProbeResult.objects.get(run=run)
        assert (result.target_id, result.outcome) == (target.pk, "ok")
        assert edge.hits("/slow") == 2  # probed again by the survivor, once
        with httpx.Client(base_url=web.url, timeout=30) as browser:
            assert "All 1 check done" in browser.get(run.get_absolute_url()).text
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()


@pytest.mark.django_db
def test_the_sweep_closes_a_run_left_open_with_an_interrupted_row(
    client: Client, edge: Any
) -> None:
    # The filesystem broker loses a message its worker took before dying: no redelivery.
    add_target(edge.url("/ok"), slug="one")
    add_target(edge.url("/ok"), slug="two", name="Other")
    old = timezone.now() - timedelta(hours=1)
    stale = CheckRun.objects.create(regions=["default"], expected_results=2, created_at=old)
    fresh = CheckRun.objects.create(regions=["default"], expected_results=2)

    assert close_stale_runs() == 1

    stale.refresh_from_db()
    assert stale.state == CheckRun.State.COMPLETE
    rows = list(stale.results.all())
    assert len(rows) == 2
    assert {row.outcome for row in rows} == {"timeout"}
    assert all(row.summary == runs.INTERRUPTED for row in rows)
    assert CheckRun.objects.get(pk=fresh.pk).state == CheckRun.State.RUNNING
    page = client.get(stale.get_absolute_url()).content.decode()
    assert "interrupted before it finished" in page
    assert edge.hits("/ok") == 0
    assert close_stale_runs() == 0  # closed runs stay closed
