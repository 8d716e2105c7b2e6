"""Regions: heartbeats decide where a run fans out; each region keeps its own results."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from diagnostics import heartbeats
from diagnostics.models import CheckRun, forget_verdict_rules
from diagnostics.tasks import start_run
from tests.conftest import WorkerProcess, subprocess_env, wait_for
from tests.diagnostics.test_coalesce import unique_target


@pytest.fixture
def no_heartbeats() -> None:
    cache.delete_many([f"checks:heartbeat:{name}" for name in ("eu", "asia", "us")])


@pytest.mark.django_db
def test_a_single_region_deployment_probes_from_its_own_region(settings: Any) -> None:
    settings.CHECKS_REGIONS = []
    settings.CHECKS_REGION = "home"
    assert heartbeats.live_regions() == ["home"]


@pytest.mark.django_db
def test_only_named_regions_with_a_recent_heartbeat_are_live(
    settings: Any, no_heartbeats: None
) -> None:
    settings.CHECKS_REGIONS = ["eu", "asia", "us"]
    heartbeats.beat("eu", "w1")
    heartbeats.beat("asia", "w2")
    heartbeats.beat("elsewhere", "stray")  # not named: never joins a run
    assert heartbeats.live_regions() == ["eu", "asia"]


@pytest.mark.django_db
def test_a_stale_heartbeat_does_not_count(settings: Any, no_heartbeats: None) -> None:
    settings.CHECKS_REGIONS = ["eu", "asia"]
    old = {"hostname": "w1", "seen_at": 0.0}
    cache.set("checks:heartbeat:eu", old, timeout=60)
    heartbeats.beat("asia", "w2")
    assert heartbeats.live_regions() == ["asia"]


@pytest.mark.django_db
def test_with_no_live_region_the_home_region_still_gets_the_run(
    settings: Any, no_heartbeats: None
) -> None:
    settings.CHECKS_REGIONS = ["eu", "asia"]
    settings.CHECKS_REGION = "eu"
    assert heartbeats.live_regions() == ["eu"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_block_in_one_region_shows_in_that_region_only(
    clean_broker: None, edge: Any, settings: Any, no_heartbeats: None, client: Client
) -> None:
    settings.CHECKS_REGIONS = ["eu", "asia"]
    unique_target(edge, "/ok")
    edge.block_clients = {"127.0.0.3"}
    workers = [
        WorkerProcess(
            f"checks.{region}",
            subprocess_env(
                CHECKS_REGION=region, PROBE_SOURCE_ADDRESS=address, HEARTBEAT_SECONDS="0.5"
            ),
            name=region,
        )
        for region, address in (("eu", "127.0.0.2"), ("asia", "127.0.0.3"))
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        wait_for(lambda: heartbeats.live_regions() == ["eu", "asia"], timeout=30)
        run = start_run()
        assert run.regions == ["eu", "asia"]
        wait_for(lambda: CheckRun.objects.get(pk=run.pk).state == CheckRun.State.COMPLETE)
    finally:
        for worker in workers:
            worker.stop()

    rows = {row.region: row for row in run.results.all()}
    assert rows["eu"].outcome == "ok"
    assert rows["asia"].outcome == "blocked"
    assert rows["asia"].evidence["cloudflare"]["code"] == "1020"
    assert {seen.client for seen in edge.seen} == {"127.0.0.2", "127.0.0.3"}

    # The verdict names the block as one region's, and the report says which region saw what.
    call_command("seed_rules", verbosity=0)
    forget_verdict_rules()
    verdict = CheckRun.objects.get(pk=run.pk).verdict()
    assert verdict.code == "checks-blocked-in-region"
    assert verdict.regions == ("asia",)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "only from some places" in page
    # Rows come in region order (asia, then eu); each region's words name it.
    assert "rom asia Cloudflare blocked our server (error 1020)" in page
    assert "rom eu our server reached the service" in page
    assert "(from asia)" in page and "(from eu)" in page
