"""Targets that misbehave on purpose, run end to end through a worker and the report page.

The probe-level versions are in tests/diagnostics/probes/test_http.py; here the
same servers are met through the whole path a visitor uses, and the answer must
be a finished run whose rows say in plain words what happened.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from diagnostics.models import CheckRun
from tests.conftest import WorkerProcess, wait_for
from tests.faults.helpers import add_target

HOSTILE = {
    # slug: (path on the edge, the outcome its row must show)
    "hangs": ("/hang", "timeout"),
    "drips": ("/drip", "timeout"),
    "loops": ("/redirect-loop", "error"),
}


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found
    return int(found.group(1))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_hostile_targets_give_a_finished_run_with_plain_results(
    client: Client, edge: Any, celery_worker: WorkerProcess
) -> None:
    for order, (slug, (path, _)) in enumerate(HOSTILE.items()):
        add_target(edge.url(path), slug=slug, name=f"Target that {slug}", order=order,
                   timeout_seconds=1)  # fmt: skip
    huge = add_target(edge.url("/huge"), slug="huge", name="Target that sends 100 MB", order=10)
    bomb = add_target(edge.url("/gzip-bomb"), slug="bomb", name="Gzip bomb", order=11)
    before = rss_kib(celery_worker.process.pid)

    response = client.post("/checks/", {})
    assert response.status_code == 302
    run = CheckRun.objects.get()
    wait_for(lambda: CheckRun.objects.get(pk=run.pk).state == CheckRun.State.COMPLETE, timeout=90)

    outcomes = {row.target.slug: row for row in run.results.select_related("target")}
    for slug, (_, outcome) in HOSTILE.items():
        assert outcomes[slug].outcome == outcome, (slug, outcomes[slug].summary)
    assert "redirect" in outcomes["loops"].summary.lower()
    # A 100 MB answer and a gzip bomb are read up to the cap and judged on what arrived.
    for target in (huge, bomb):
        row = outcomes[target.slug]
        assert row.outcome in {"ok", "unknown", "error"}, (row.outcome, row.summary)
    grown_mib = (rss_kib(celery_worker.process.pid) - before) / 1024
    print(f"worker RSS grew by {grown_mib:.1f} MiB over the hostile run")
    assert grown_mib < 50  # the huge body alone is 100 MB; the bomb inflates to far more

    page = client.get(run.get_absolute_url()).content.decode()
    assert "All 5 checks done" in page
    assert page.count("Timed out") >= 2
    assert "Error" in page
    for slug in HOSTILE:
        assert f"Target that {slug}" in page
    assert edge.hits("/redirect-loop") <= 11  # bounded, not followed forever
