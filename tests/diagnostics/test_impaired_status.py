"""Status surfaces when our own checks are impaired: every control failed, so we can't tell.

The outside world is the loopback stand-ins: a port nothing listens on plays
"no internet" (connection refused for every target, controls included), the
edge and status-page servers play the internet once it is back.
"""

from __future__ import annotations

import html
import importlib
import re
import socket
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone

from diagnostics.models import CheckRun, ProbeResult, ProbeSample, Target
from diagnostics.standins.statuspage import PROVIDER_PATHS, StatusPageServer
from diagnostics.tasks import sample_region

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
IMPAIRED = "Our own checks could not reach the internet at"


@pytest.fixture
def dead_port() -> int:
    """A loopback port with nothing behind it: every connection is refused."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


def make(kind: str, url: str, **fields: Any) -> Target:
    tag = uuid.uuid4().hex[:8]
    # A fresh query string gives a fresh config version: no cached answer is reused.
    separator = "&" if "?" in url else "?"
    defaults: dict[str, Any] = {"name": f"{kind} {tag}", "slug": f"{kind}-{tag}"}
    defaults["probes"] = ["status"] if kind == Target.Kind.STATUS_PAGE else ["http"]
    return Target.objects.create(
        kind=kind, url=f"{url}{separator}t={tag}", **{**defaults, **fields}
    )


@pytest.fixture
def offline(dead_port: int) -> dict[str, Target]:
    return offline_targets(dead_port)


def offline_targets(dead_port: int) -> dict[str, Target]:
    """Two controls, a web app and a status page, all unreachable: our network is down."""
    dead = f"http://127.0.0.1:{dead_port}/"
    return {
        "wikipedia": make(Target.Kind.CONTROL, dead, name="Wikipedia (control)"),
        "example": make(Target.Kind.CONTROL, dead, name="example.com (control)"),
        "web": make(Target.Kind.WEB_APP, dead, name="ChatGPT web app"),
        "status": make(
            Target.Kind.STATUS_PAGE, dead + "api/v2/summary.json", name="OpenAI status page",
            provider="statuspage",
        ),
    }  # fmt: skip


def visible_text(page: str) -> str:
    """What a reader sees in the main content (the site's name says "Error" in its header)."""
    main = re.search(r"<main\b.*?</main>", page, flags=re.S)
    page = main.group(0) if main else page
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def assert_says_impaired_and_no_failure(html: str) -> None:
    text = visible_text(html)
    assert IMPAIRED in text
    assert "so we can't tell" in text
    for failure in ("Error", "Down", "Not answering", "Timed out", "Up 0%", " 0%"):
        assert failure not in text, f"{failure!r} shown while our checks were impaired"
    for red in ("state-error", "state-down", "live-error", "live-down", "outcome-error"):
        assert red not in html


def test_a_round_where_every_control_failed_is_not_measured(offline: dict[str, Target]) -> None:
    sample_region.apply(("default",))

    samples = ProbeSample.objects.filter(target__in=offline.values())
    assert samples.count() == 4
    assert {s.outcome for s in samples} <= {"down", "error"}  # the probes did fail...
    assert not any(s.measured for s in samples)  # ...but that measured nothing


def test_every_status_surface_says_we_cannot_tell(
    client: Client, offline: dict[str, Target]
) -> None:
    sample_region.apply(("default",))

    overview = client.get("/status/").content.decode()
    assert_says_impaired_and_no_failure(overview)
    assert "Can't tell" in visible_text(overview) and "state-impaired" in overview
    assert "No uptime measured yet: each time we checked in the last 90 days" in overview

    for target in offline.values():
        page = client.get(f"/status/{target.slug}/").content.decode()
        assert_says_impaired_and_no_failure(page)
        assert "taken while our own checks could not reach the internet" in page
        # The card says it was checked, and nothing beside it says it was not.
        assert "checked <time" in page
        assert "not checked yet" not in visible_text(page).lower()

    live = client.get("/checks/live/", headers=HTMX).content.decode()
    assert_says_impaired_and_no_failure(live)
    assert "live-impaired" in live


def test_uptime_covers_only_the_time_we_could_measure(
    client: Client, offline: dict[str, Target], edge: Any
) -> None:
    sample_region.apply(("default",))  # the internet is gone for this round
    ProbeSample.objects.update(probed_at=timezone.now() - timedelta(minutes=10))
    for target in offline.values():  # ...and back for the next one
        target.url = edge.url(f"/ok?t={uuid.uuid4().hex[:8]}")
        target.probes = ["http"]
        target.save()

    sample_region.apply(("default",))

    web = offline["web"]
    assert list(web.samples.values_list("measured", flat=True)) == [True, False]
    today = web.uptime_days(90)[-1]
    assert (today.samples, today.ok_samples, today.unmeasured) == (1, 1, 1)
    page = visible_text(client.get(f"/status/{web.slug}/").content.decode())
    assert "Up 100% over the 1 day we checked in the last 90" in page
    assert IMPAIRED not in page  # the newest answer was measured: the state is known again
    assert "Up" in page and "Can't tell" not in page


def test_a_later_control_answer_corrects_the_round(offline: dict[str, Target]) -> None:
    started = timezone.now() - timedelta(seconds=30)
    sample_region.apply(("default",))
    assert not ProbeSample.objects.filter(target=offline["web"]).get().measured

    # A control answer still in flight during the first pass lands, and it reached its site.
    ProbeSample.objects.create(
        target=offline["example"], region="default", probe="dns", outcome="ok", summary="ok"
    )

    assert ProbeSample.settle_round("default", started) is False
    assert all(ProbeSample.objects.values_list("measured", flat=True))


def test_a_visitors_run_with_failing_controls_is_not_measured_either(
    client: Client, offline: dict[str, Target]
) -> None:
    run = CheckRun.objects.create()
    for target in offline.values():
        ProbeResult.objects.create(
            run=run, target=target, region="default", probe=target.probes[0],
            outcome="down", summary="The site's server could not be reached.",
        )  # fmt: skip

    assert_says_impaired_and_no_failure(client.get("/status/").content.decode())
    assert_says_impaired_and_no_failure(client.get("/checks/live/", headers=HTMX).content.decode())


def test_maintenance_is_its_own_state_on_status_pages(
    client: Client, status_server: StatusPageServer
) -> None:
    path = f"/statuspage/maintenance/{PROVIDER_PATHS['statuspage']}"
    target = make(
        Target.Kind.STATUS_PAGE, status_server.url(path), provider="statuspage", name="Acme status"
    )

    sample_region.apply(("default",))

    assert target.latest_sample().outcome == "maintenance"  # type: ignore[union-attr]
    page = client.get(f"/status/{target.slug}/").content.decode()
    assert 'class="status-state state-maintenance"' in page
    assert ">Maintenance<" in page and "Degraded" not in visible_text(page)
    live = visible_text(client.get("/checks/live/", headers=HTMX).content.decode())
    assert "Acme status: Maintenance in progress" in live


def test_the_migration_marks_impaired_rounds_stored_before_it(offline: dict[str, Target]) -> None:
    migration = importlib.import_module("diagnostics.migrations.0005_measured_samples")
    now = timezone.now()

    def stored(target: Target, minutes_ago: float, outcome: str) -> ProbeSample:
        return ProbeSample.objects.create(
            target=target, region="default", probe="http", outcome=outcome, summary=outcome,
            probed_at=now - timedelta(minutes=minutes_ago),
        )  # fmt: skip

    offline_round = [
        stored(offline["wikipedia"], 10, "down"),
        stored(offline["example"], 10.01, "error"),
        stored(offline["web"], 10.02, "down"),
    ]
    online_round = [
        stored(offline["wikipedia"], 5, "down"),
        stored(offline["example"], 5.01, "ok"),  # one control got through: we measured
        stored(offline["web"], 5.02, "down"),
    ]

    migration.settle_stored_rounds(django_apps, None)

    assert [ProbeSample.objects.get(pk=s.pk).measured for s in offline_round] == [False] * 3
    assert [ProbeSample.objects.get(pk=s.pk).measured for s in online_round] == [True] * 3
