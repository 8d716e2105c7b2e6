"""Polite probing: an honest User-Agent, rests after a rate limit, a minimum interval."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from diagnostics import coalesce
from diagnostics.models import ProbeSample
from diagnostics.tasks import sample_region
from tests.diagnostics.test_coalesce import collect, unique_target


@pytest.mark.django_db
def test_probes_say_who_they_are(edge: Any) -> None:
    collect(coalesce.jobs_for([unique_target(edge, "/ok")], "default"))
    assert [seen.user_agent for seen in edge.seen] == [settings.PROBE_USER_AGENT]


@pytest.mark.django_db
def test_a_rate_limited_target_is_left_alone_until_its_retry_after(edge: Any) -> None:
    target = unique_target(edge, "/rate-limit")
    jobs = coalesce.jobs_for([target], "default")
    _, first = collect(jobs)
    assert first[0]["outcome"] == "blocked"
    assert first[0]["evidence"]["retry_after"] == 30

    # The freshness window has passed: without the rest, the next visitor would ask again.
    cache.delete(f"checks:answer:{jobs[0].key}")
    _, later = collect(jobs)

    assert edge.hits("/rate-limit") == 1
    assert later[0]["evidence"]["resting"] is True
    assert f"giving {target.name} a rest until" in later[0]["summary"]
    assert later[0]["summary"].count("UTC") == 1


@pytest.mark.django_db
def test_the_rest_holds_for_every_region_and_probe(edge: Any) -> None:
    target = unique_target(edge, "/rate-limit", probes=["http", "tcp"])
    collect(coalesce.jobs_for([target], "eu"))
    hits = edge.hits("/rate-limit")
    _, stored = collect(coalesce.jobs_for([target], "asia"))
    assert edge.hits("/rate-limit") == hits
    assert all(data["evidence"].get("resting") for data in stored)


@pytest.mark.django_db
def test_a_resting_answer_is_not_recorded_as_history(edge: Any) -> None:
    target = unique_target(edge, "/rate-limit")
    sample_region.apply(("default",))
    assert ProbeSample.objects.filter(target=target).count() == 1
    ProbeSample.objects.all().delete()  # as if the minimum interval had passed
    cache.delete(f"checks:answer:{coalesce.jobs_for([target], 'default')[0].key}")
    sample_region.apply(("default",))
    assert not ProbeSample.objects.filter(target=target).exists()
    assert edge.hits("/rate-limit") == 1


@pytest.mark.django_db
def test_periodic_probes_keep_to_the_minimum_interval(edge: Any, settings: Any) -> None:
    settings.CHECKS_FRESHNESS_SECONDS = 0.001  # no reuse: only the interval protects the target
    target = unique_target(edge, "/ok")
    sample_region.apply(("default",))
    sample_region.apply(("default",))
    assert edge.hits("/ok") == 1
    assert ProbeSample.objects.filter(target=target).count() == 1
