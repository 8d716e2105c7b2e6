"""The SVG charts: honest gaps, escaped text, no inline style or script."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from diagnostics import charts
from diagnostics.models import DayUptime


def days_of(ratios: list[tuple[int, int]]) -> list[DayUptime]:
    first = date(2026, 1, 1)
    return [DayUptime(first + timedelta(days=i), n, ok) for i, (n, ok) in enumerate(ratios)]


def test_it_draws_a_day_without_data_as_not_checked() -> None:
    svg = charts.uptime_bar(days_of([(10, 10), (0, 0), (10, 5)]), chart_id="c", label="x")
    rects = re.findall(r"<rect [^>]*>", svg)
    assert len(rects) == 3
    assert f'fill="{charts.FILL_UP}"' in rects[0]
    assert f'fill="{charts.FILL_UNCHECKED}"' in rects[1] and "bar-not-checked" in rects[1]
    assert f'height="{charts.UNCHECKED_HEIGHT}"' in rects[1]
    assert f'fill="{charts.FILL_DOWN}"' in rects[2]
    assert "<title>2026-01-02: not checked</title>" in svg


def test_it_never_draws_an_unchecked_day_as_up() -> None:
    svg = charts.uptime_bar(days_of([(0, 0)] * 90), chart_id="c", label="x")
    assert charts.FILL_UP not in svg
    assert "No uptime history yet: nothing measured in the last 90 days." in svg


def test_it_summarises_uptime_in_one_sentence() -> None:
    days = [(100, 100)] * 75 + [(100, 90)] * 3 + [(0, 0)] * 12
    summary = charts.summarise_uptime(days_of(days))
    assert summary.sentence == (
        "Up 99.6% over the 78 days we checked in the last 90; 3 days with problems."
    )


def test_it_counts_only_measured_samples_in_uptime() -> None:
    first = date(2026, 1, 1)
    days = [
        DayUptime(first, 100, 97),  # a measured day with a few failures
        DayUptime(first + timedelta(days=1), 50, 50, unmeasured=50),  # half the day impaired
        DayUptime(first + timedelta(days=2), 0, 0, unmeasured=288),  # impaired all day
        DayUptime(first + timedelta(days=3), 0, 0),  # nothing at all
    ]

    summary = charts.summarise_uptime(days)

    assert summary.percent == 100 * 147 / 150
    assert summary.sentence == (
        "Up 98% over the 2 days we checked in the last 4; 1 day with problems; "
        "1 day not measured because our own checks could not reach the internet."
    )
    svg = charts.uptime_bar(days, chart_id="c", label="x")
    assert "2026-01-03: not measured, our own checks could not reach the internet" in svg
    assert "bar-not-measured" in svg and charts.FILL_DOWN not in svg.split("2026-01-03")[1]


def test_it_never_says_up_0_percent_from_impaired_samples_alone() -> None:
    days = [DayUptime(date(2026, 1, 1) + timedelta(days=i), 0, 0, unmeasured=3) for i in range(2)]

    summary = charts.summarise_uptime(days)

    assert summary.percent is None
    assert "0%" not in summary.sentence
    assert summary.sentence == (
        "No uptime measured yet: each time we checked in the last 2 days, "
        "our own checks could not reach the internet."
    )


def test_it_does_not_round_a_bad_day_up_to_100_percent() -> None:
    assert charts.format_percent(99.96) == "99.9%"
    assert charts.format_percent(100.0) == "100%"


def test_it_escapes_every_label() -> None:
    label = '<script>alert(1)</script>" onload="x'
    svg = charts.uptime_bar(days_of([(1, 1)]), chart_id='a"b', label=label)
    assert "<script" not in svg and 'onload="x' not in svg
    assert "&lt;script&gt;" in svg and 'id="a&quot;b-title"' in svg
    latency = charts.latency_chart([], end=datetime.now(UTC), chart_id="l", label=label)
    assert "<script" not in latency


def test_it_uses_no_style_attribute_or_script() -> None:
    now = datetime(2026, 1, 2, 12, tzinfo=UTC)
    points = [
        charts.LatencyPoint(now - timedelta(minutes=5 * i), 100.0 + i, True) for i in range(20)
    ]
    for svg in (
        charts.uptime_bar(days_of([(1, 1), (0, 0)]), chart_id="u", label="u"),
        charts.latency_chart(points, end=now, chart_id="l", label="l"),
    ):
        assert "style" not in svg and "<script" not in svg
        assert svg.startswith("<svg") and 'role="img"' in svg
        assert "<title id=" in svg and "<desc id=" in svg


def test_it_breaks_the_latency_line_where_no_check_ran() -> None:
    end = datetime(2026, 1, 2, 12, tzinfo=UTC)
    early = [
        charts.LatencyPoint(end - timedelta(hours=20, minutes=5 * i), 80.0, True) for i in range(6)
    ]
    late = [charts.LatencyPoint(end - timedelta(minutes=5 * i), 120.0, True) for i in range(6)]
    svg = charts.latency_chart(early + late, end=end, chart_id="l", label="l")
    assert svg.count("<polyline") == 2


def test_it_marks_failed_checks_and_counts_them() -> None:
    end = datetime(2026, 1, 2, 12, tzinfo=UTC)
    points = [
        charts.LatencyPoint(end - timedelta(minutes=10), 100.0, True),
        charts.LatencyPoint(end - timedelta(minutes=5), None, False),
        charts.LatencyPoint(end, 300.0, True),
    ]
    svg = charts.latency_chart(points, end=end, chart_id="l", label="l")
    assert "11:55 UTC: failed" in svg
    summary = charts.summarise_latency(points)
    assert summary.sentence == (
        "3 checks in the last 24 hours; median response 300 ms, slowest 300 ms; 1 failed check."
    )
    assert "500 ms" in svg  # the axis top is a round number above the slowest


def test_it_says_so_when_nothing_was_timed() -> None:
    svg = charts.latency_chart([], end=datetime.now(UTC), chart_id="l", label="l")
    assert "Not checked in the last 24 hours." in svg
    assert "<polyline" not in svg
