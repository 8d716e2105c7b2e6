"""State changes from beat samples: hysteresis, impaired samples skipped, pages and signal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from diagnostics import signals, state_changes
from diagnostics.models import ProbeSample, StateChange, Target
from diagnostics.tasks import sample_region
from tests.diagnostics.test_coalesce import unique_target


def samples(target: Target, outcomes: str, *, measured: bool = True, start: int = 0) -> None:
    """One sample per letter, a minute apart, oldest first: o=ok, d=down, b=blocked."""
    names = {"o": "ok", "d": "down", "b": "blocked", "t": "timeout", "g": "degraded"}
    base = timezone.now() - timedelta(hours=1)
    for i, letter in enumerate(outcomes, start=start):
        ProbeSample.objects.create(
            target=target,
            region="default",
            probe="http",
            outcome=names[letter],
            summary=f"answer {i}: {names[letter]}",
            probed_at=base + timedelta(minutes=i),
            measured=measured,
        )


@pytest.mark.django_db
def test_it_records_a_change_only_after_n_agreeing_samples(edge: Any, settings: Any) -> None:
    settings.STATUS_CHANGE_SAMPLES = 3
    target = unique_target(edge, "/ok")
    samples(target, "ooo")
    first = state_changes.detect(target, "default")
    assert first is not None and (first.from_state, first.to_state) == ("unchecked", "ok")

    samples(target, "dd", start=3)
    assert state_changes.detect(target, "default") is None  # two are not enough
    samples(target, "d", start=5)
    change = state_changes.detect(target, "default")
    assert change is not None and (change.from_state, change.to_state) == ("ok", "down")
    assert change.at == ProbeSample.objects.filter(target=target).latest("probed_at").probed_at
    assert change.evidence == "3 checks in a row from default (http): answer 5: down"
    assert state_changes.detect(target, "default") is None  # nothing new: no second row


@pytest.mark.django_db
def test_a_flapping_target_makes_no_change(edge: Any, settings: Any) -> None:
    settings.STATUS_CHANGE_SAMPLES = 2
    target = unique_target(edge, "/ok")
    samples(target, "oo")
    state_changes.detect(target, "default")
    samples(target, "dodod", start=2)
    for _ in range(3):
        assert state_changes.detect(target, "default") is None
    assert StateChange.objects.filter(target=target).count() == 1


@pytest.mark.django_db
def test_samples_taken_while_our_checks_were_impaired_count_neither_way(
    edge: Any, settings: Any
) -> None:
    settings.STATUS_CHANGE_SAMPLES = 2
    target = unique_target(edge, "/ok")
    samples(target, "oo")
    state_changes.detect(target, "default")
    samples(target, "ttt", start=2, measured=False)  # our own network was down
    assert state_changes.detect(target, "default") is None
    samples(target, "d", start=5)
    assert state_changes.detect(target, "default") is None  # one measured "down" only
    samples(target, "o", start=6)
    assert state_changes.detect(target, "default") is None
    assert StateChange.objects.filter(target=target).count() == 1


@pytest.mark.django_db
def test_timeouts_and_refusals_are_one_state(edge: Any, settings: Any) -> None:
    settings.STATUS_CHANGE_SAMPLES = 2
    target = unique_target(edge, "/ok")
    samples(target, "dt")
    change = state_changes.detect(target, "default")
    assert change is not None and change.to_state == "down"


@pytest.mark.django_db(transaction=True)
def test_a_change_is_announced_after_commit(edge: Any, settings: Any) -> None:
    settings.STATUS_CHANGE_SAMPLES = 1
    heard: list[StateChange] = []

    def listen(sender: Any, change: StateChange, **kwargs: Any) -> None:
        heard.append(change)

    signals.state_changed.connect(listen, dispatch_uid="test-listen")
    try:
        target = unique_target(edge, "/ok")
        samples(target, "b")
        change = state_changes.detect(target, "default")
        assert heard == [change]
    finally:
        signals.state_changed.disconnect(dispatch_uid="test-listen")


@pytest.mark.django_db
def test_the_beat_round_detects_changes_from_real_probes(edge: Any, settings: Any) -> None:
    settings.STATUS_CHANGE_SAMPLES = 1
    target = unique_target(edge, "/plain-500")
    sample_region.apply(("default",))
    change = StateChange.objects.get(target=target)
    assert change.from_state == "unchecked" and change.to_state != "ok"
    assert "1 check in a row from default (http)" in change.evidence


@pytest.mark.django_db
def test_status_pages_list_recent_changes_and_link_their_feeds(
    client: Any, edge: Any, settings: Any
) -> None:
    settings.STATUS_CHANGE_SAMPLES = 2
    target = unique_target(edge, "/ok")
    samples(target, "oodd")
    state_changes.detect(target, "default")  # unchecked -> down (newest two agree)
    page = client.get(f"/status/{target.slug}/").content.decode()
    assert "Recent changes" in page
    assert f"{target.name}: first seen down" in page
    assert "2 checks in a row from default (http): answer 3: down" in page
    assert (
        f'<link rel="alternate" type="application/atom+xml" title="State changes of '
        f'{target.name}" href="/status/{target.slug}/changes.atom">'
    ) in page
    overview = client.get("/status/").content.decode()
    assert 'href="/status/changes.atom"' in overview
    assert f"{target.name}: first seen down" in overview


@pytest.mark.django_db
def test_without_changes_the_page_says_so(client: Any, edge: Any) -> None:
    target = unique_target(edge, "/ok")
    page = client.get(f"/status/{target.slug}/").content.decode()
    assert "No changes recorded yet." in page


@pytest.mark.django_db
def test_the_daily_prune_drops_changes_older_than_the_rollups(edge: Any, settings: Any) -> None:
    from diagnostics.tasks import prune_history

    settings.CHECKS_ROLLUP_KEEP_DAYS = 400
    target = unique_target(edge, "/ok")
    now = timezone.now()
    for days, state in ((401, "down"), (399, "ok")):
        StateChange.objects.create(
            target=target,
            region="default",
            at=now - timedelta(days=days),
            from_state="unchecked",
            to_state=state,
            evidence="x",
        )
    prune_history.apply()
    assert list(StateChange.objects.filter(target=target).values_list("to_state", flat=True)) == [
        "ok"
    ]
