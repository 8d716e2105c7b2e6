"""An outage stampede through the views, a real worker and real probes (issue 15, points 1-2).

Many distinct visitors press "Run checks" once each. Runs answered from fresh or
in-flight results send nothing and must not be refused by the global limit; a
run whose answers are all fresh is finished in the response to the press.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from diagnostics import coalesce
from diagnostics.models import CheckRun, Target
from tests.conftest import wait_for

HTMX = {"HTTP_HX_REQUEST": "true"}


def press(client: Client, address: str, fields: dict[str, str] | None = None, **extra: Any) -> Any:
    """A press of Run checks; ``fields`` join the form's, ``extra`` are request headers."""
    data = {"article": "guide", **(fields or {})}
    return client.post("/checks/", data, REMOTE_ADDR=address, **extra)


def finished(run: CheckRun) -> bool:
    return CheckRun.objects.get(pk=run.pk).state == CheckRun.State.COMPLETE


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.CHECKS_RATE_GLOBAL = 1  # one run that probes per window, for everyone
    settings.CHECKS_RATE_GLOBAL_WINDOW = 3600
    settings.CHECKS_RATE_PER_VISITOR = 2
    settings.CHECKS_FRESHNESS_SECONDS = 300
    cache.clear()  # the embedded default's cache table outlives a transactional test
    return settings


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_stampede_of_distinct_visitors_gets_no_429(
    client: Client, edge: Any, celery_worker: Any, limits: Any
) -> None:
    target = Target.objects.create(
        name="Service", slug="service", url=edge.url("/slow?ms=600"), probes=["http"]
    )
    first = press(client, "198.51.100.1", **HTMX)
    assert first.status_code == 200
    jobs = coalesce.jobs_for([target], "default")
    # The worker took the probe: from now on it is in flight, owned by the first run.
    wait_for(lambda: coalesce.look(jobs)[1] or coalesce.look(jobs)[0])

    in_flight = [press(client, f"198.51.100.{n}", **HTMX) for n in range(2, 12)]
    assert [r.status_code for r in in_flight] == [200] * 10
    runs = list(CheckRun.objects.order_by("created_at"))
    wait_for(lambda: all(finished(run) for run in runs))
    # The first press after the claim waited for the owner's answer, not for a probe of its own.
    waited = CheckRun.objects.get(pk=runs[1].pk)
    assert waited.finished_at is not None and waited.finished_at > waited.created_at

    fresh = [press(client, f"203.0.113.{n}", **HTMX) for n in range(1, 31)]
    assert [r.status_code for r in fresh] == [200] * 30
    assert edge.hits("/slow") == 1  # 41 runs, one request to the target

    # The per-visitor limit still holds, fresh answers or not.
    assert press(client, "203.0.113.1", **HTMX).status_code == 200
    assert press(client, "203.0.113.1", **HTMX).status_code == 429

    # A run that would send a request counts, and the global limit refuses it.
    target.url = edge.url("/slow?ms=10")  # a new config: nothing fresh for it
    target.save()
    refused = press(client, "192.0.2.50", **HTMX)
    assert refused.status_code == 429 and "many people have" in refused.content.decode()
    assert edge.hits("/slow") == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_answer_the_server_has_comes_with_the_press(
    client: Client, edge: Any, celery_worker: Any, limits: Any
) -> None:
    Target.objects.create(name="Service", slug="service", url=edge.url("/ok"), probes=["http"])
    first = press(client, "198.51.100.1", **HTMX)
    run = CheckRun.objects.get()
    wait_for(lambda: finished(run))

    # With htmx: the press answers with the finished panel, nothing left to poll.
    pressed = press(client, "198.51.100.2", {"browser_checks": "1"}, **HTMX)
    html = pressed.content.decode()
    assert pressed.status_code == 200
    assert "data-verdict=" in html and "All 1 check done" in html
    assert "checks:poll" not in html and "data-poll-schedule" not in html
    assert first.status_code == 200 and 'hx-get="/checks/' in first.content.decode()

    # Without JavaScript: straight to the finished report, which does not refresh itself.
    redirected = press(client, "198.51.100.3")
    assert redirected.status_code == 302
    report = client.get(redirected["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in report
    assert "data-verdict=" in report and "All 1 check done" in report
    assert re.search(r"outcome-ok", report)
    assert edge.hits("/ok") == 1


@pytest.mark.django_db
def test_a_press_answered_from_fresh_results_reads_the_targets_once(
    client: Client, edge: Any, limits: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    checked = Target.objects.create(
        name="Web", slug="web", url=edge.url("/ok"), probes=["http"], browser_check=True
    )
    Target.objects.create(name="API", slug="api", url=edge.url("/ok"), probes=["http"])
    for job in coalesce.jobs_for(list(Target.objects.all()), "default"):
        coalesce.publish(job, {"probe": job.probe, "outcome": "ok", "summary": "answered"})

    with CaptureQueriesContext(connection) as queries:
        pressed = press(client, "198.51.100.9", {"browser_checks": "1"}, **HTMX)
    html = pressed.content.decode()
    assert pressed.status_code == 200 and 'data-state="complete"' in html
    # The browser is asked to fetch the one target marked for it, from the plan's own list.
    assert f"&quot;slug&quot;: &quot;{checked.slug}&quot;" in html and "&quot;api&quot;" not in html
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "diagnostics_target"' in q["sql"]]
    assert len(reads) == 1, reads
    assert edge.hits("/ok") == 0  # nothing was sent: every answer was fresh
