"""/status/ and /status/<slug>/: state, incidents, 90-day bars and latency from stored history."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from diagnostics import charts
from diagnostics.models import CheckRun, DailyRollup, ProbeResult, ProbeSample, Target


def make_target(**fields: Any) -> Target:
    slug = fields.pop("slug", f"t-{uuid.uuid4().hex[:8]}")
    defaults: dict[str, Any] = {
        "name": f"Service {slug}",
        "url": "https://service.example/",
        "probes": ["http"],
        "kind": Target.Kind.WEB_APP,
    }
    return Target.objects.create(slug=slug, **{**defaults, **fields})


def sample(
    target: Target,
    *,
    ago: timedelta,
    outcome: str = "ok",
    probe: str = "http",
    latency: float | None = 120.0,
    evidence: dict[str, Any] | None = None,
) -> ProbeSample:
    return ProbeSample.objects.create(
        target=target,
        region="default",
        probe=probe,
        outcome=outcome,
        summary=f"{probe} said {outcome}",
        latency_ms=latency,
        evidence=evidence or {},
        probed_at=timezone.now() - ago,
    )


def rollup(target: Target, days_ago: int, samples: int, ok: int) -> DailyRollup:
    return DailyRollup.objects.create(
        target=target,
        region="default",
        probe="http",
        day=timezone.now().date() - timedelta(days=days_ago),
        samples=samples,
        ok_samples=ok,
        worst_outcome="ok" if ok == samples else "down",
    )


def card(html: str, slug: str) -> str:
    """The overview's list item for one target."""
    start = html.index(f'id="status-{slug}"')
    end = html.find('<li class="status-target"', start)
    return html[start : end if end != -1 else len(html)]


@pytest.mark.django_db
def test_it_says_not_checked_yet_for_a_target_never_probed(client: Any) -> None:
    target = make_target(name="Fresh service")
    response = client.get("/status/")
    assert response.status_code == 200
    html = card(response.content.decode(), target.slug)
    assert "Not checked yet" in html and "not checked yet" in html
    assert "No uptime history yet: nothing measured in the last 90 days." in html
    assert html.count(f'fill="{charts.FILL_UNCHECKED}"') == 90
    assert charts.FILL_UP not in html


@pytest.mark.django_db
def test_it_shows_the_latest_state_and_its_age(client: Any) -> None:
    target = make_target()
    sample(target, ago=timedelta(hours=1), outcome="ok")
    sample(target, ago=timedelta(minutes=3, seconds=10), outcome="down", latency=None)
    html = card(client.get("/status/").content.decode(), target.slug)
    assert 'class="status-state state-down"' in html and ">Down<" in html
    assert "checked <time" in html and "3 min ago</time>" in html


@pytest.mark.django_db
def test_it_takes_the_worst_of_a_targets_probes(client: Any) -> None:
    target = make_target(probes=["dns", "http"])
    sample(target, ago=timedelta(minutes=2), probe="dns", outcome="ok")
    sample(target, ago=timedelta(minutes=2), probe="http", outcome="blocked")
    html = card(client.get("/status/").content.decode(), target.slug)
    assert "state-blocked" in html


@pytest.mark.django_db
def test_a_visitors_newer_run_result_counts_as_the_latest_answer(client: Any) -> None:
    target = make_target()
    sample(target, ago=timedelta(minutes=30), outcome="ok")
    run = CheckRun.objects.create()
    ProbeResult.objects.create(
        run=run, target=target, region="default", probe="http", outcome="timeout", summary="slow"
    )
    html = card(client.get("/status/").content.decode(), target.slug)
    assert "state-timeout" in html and "0 s ago" in html


@pytest.mark.django_db
def test_it_lists_active_incidents_linking_only_http_urls(client: Any) -> None:
    target = make_target(
        kind=Target.Kind.STATUS_PAGE, probes=["status"], provider="statuspage", name="Status"
    )
    evidence = {
        "state": "major_outage",
        "incidents": [
            {"name": "API errors", "status": "investigating", "impact": "major_outage",
             "url": "https://status.example/incidents/1"},
            {"name": "<b>Sneaky</b>", "status": "identified", "impact": "minor",
             "url": "javascript:alert(1)"},
        ],
    }  # fmt: skip
    sample(target, ago=timedelta(minutes=1), probe="status", outcome="down", evidence=evidence)
    html = card(client.get("/status/").content.decode(), target.slug)
    assert '<a href="https://status.example/incidents/1"' in html and "API errors" in html
    assert "javascript:" not in html
    assert "&lt;b&gt;Sneaky&lt;/b&gt;" in html and "<b>Sneaky" not in html
    assert "major outage" in html


@pytest.mark.django_db
def test_the_bar_combines_rollups_and_todays_samples_and_leaves_gaps_grey(client: Any) -> None:
    target = make_target()
    for days_ago in range(1, 11):
        rollup(target, days_ago, samples=100, ok=100)
    rollup(target, 11, samples=100, ok=50)
    sample(target, ago=timedelta(minutes=1))
    html = card(client.get("/status/").content.decode(), target.slug)
    # 12 days with data (11 rolled up + today), 78 never checked.
    assert html.count(f'fill="{charts.FILL_UNCHECKED}"') == 78
    assert html.count(f'fill="{charts.FILL_DOWN}"') == 1
    assert "Up 95.4% over the 12 days we checked in the last 90; 1 day with problems." in html


@pytest.mark.django_db
def test_each_chart_has_a_text_alternative(client: Any) -> None:
    target = make_target()
    for minutes in range(0, 120, 5):
        sample(target, ago=timedelta(minutes=minutes), latency=100.0 + minutes)
    html = client.get(f"/status/{target.slug}/").content.decode()
    for chart in ("uptime", "latency"):
        svg = re.search(rf'<svg class="chart {chart}-chart".*?</svg>', html, re.S)
        assert svg is not None
        tag = svg.group(0)
        assert 'role="img"' in tag
        assert f'aria-labelledby="{chart}-{target.slug}-title {chart}-{target.slug}-desc"' in tag
        assert f'<title id="{chart}-{target.slug}-title">' in tag and "<desc id=" in tag
        assert "style=" not in tag
    assert "24 checks in the last 24 hours; median response" in html
    assert html.count("<polyline") == 1


@pytest.mark.django_db
def test_a_target_page_without_recent_samples_says_so(client: Any) -> None:
    target = make_target()
    html = client.get(f"/status/{target.slug}/").content.decode()
    assert "Not checked in the last 24 hours." in html
    assert "<polyline" not in html


@pytest.mark.django_db
def test_status_pages_are_briefly_cacheable_and_set_no_cookie(client: Any) -> None:
    target = make_target()
    for url in ("/status/", f"/status/{target.slug}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "public" in response["Cache-Control"] and "max-age=30" in response["Cache-Control"]
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")


@pytest.mark.django_db
def test_disabled_and_unknown_targets_are_not_shown(client: Any) -> None:
    hidden = make_target(enabled=False, name="Hidden service")
    assert "Hidden service" not in client.get("/status/").content.decode()
    assert client.get(f"/status/{hidden.slug}/").status_code == 404
    assert client.get("/status/no-such-target/").status_code == 404


@pytest.mark.django_db
def test_it_escapes_a_target_name_everywhere(client: Any) -> None:
    target = make_target(name='<img src=x onerror="alert(1)">')
    for url in ("/status/", f"/status/{target.slug}/"):
        html = client.get(url).content.decode()
        assert "<img src=x" not in html and "&lt;img src=x" in html


@pytest.mark.django_db
def test_every_page_links_to_status_and_privacy(client: Any) -> None:
    html = client.get("/status/").content.decode()
    assert 'href="/status/"' in html and 'href="/privacy/"' in html


@pytest.mark.django_db
def test_uptime_follows_the_probe_a_visitor_cares_about(client: Any) -> None:
    target = make_target(probes=["dns", "http"])
    sample(target, ago=timedelta(minutes=2), probe="dns", outcome="ok")
    sample(target, ago=timedelta(minutes=2), probe="http", outcome="down")

    html = card(client.get("/status/").content.decode(), target.slug)

    # The name lookup working does not make a failing page "up 50%".
    assert "Up 0% over the 1 day we checked in the last 90" in html
    assert "50%" not in html
