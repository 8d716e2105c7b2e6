"""Server-rendered SVG charts: a 90-day uptime bar and a 24-hour latency line.

Plain functions that take history and return inline SVG. Every piece of text
and every attribute value passes through ``format_html`` (which escapes), so a
target name typed in the admin cannot become markup. Colours are presentation
attributes (``fill=``), not ``style=``: the strict CSP forbids inline styles but
not attributes, and the page's stylesheet may still override them by class.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

# Colours chosen to read on light and dark backgrounds alike (the site has both).
FILL_UP = "#2e8540"
FILL_PARTIAL = "#d98a00"
FILL_DOWN = "#c0262d"
FILL_UNCHECKED = "#9aa5b1"
# Neither up nor down: the service answered, but with a block or challenge for us.
FILL_REFUSED = "#7b5cc4"
FILL_AXIS = "#7a8691"
LINE_LATENCY = "#2b7bd1"

# A day counts as fully up only when every sample was; "partial" below this share.
PARTIAL_AT = 0.95

BAR_WIDTH = 6
BAR_GAP = 2
BAR_HEIGHT = 28
UNCHECKED_HEIGHT = 10
REFUSED_HEIGHT = 18


class Day(Protocol):
    """What the uptime bar reads from a day (diagnostics.models.DayUptime fits)."""

    @property
    def day(self) -> object: ...

    @property
    def samples(self) -> int: ...

    @property
    def ok_samples(self) -> int: ...

    @property
    def unmeasured(self) -> int: ...

    @property
    def refused(self) -> int: ...

    @property
    def ratio(self) -> float | None: ...


@dataclass(frozen=True)
class UptimeSummary:
    """The numbers behind a bar, for its text alternative."""

    percent: float | None  # over measured samples; None when nothing was measured
    problem_days: int
    unchecked_days: int
    days: int
    # Days whose every sample was taken while our own checks could not reach the internet.
    unmeasured_days: int = 0
    # Days whose every measured check was refused (blocked or challenged) for our server.
    refused_days: int = 0
    refused_checks: int = 0
    all_checks: int = 0  # refused, measured and unmeasured alike

    @property
    def measured_days(self) -> int:
        return self.days - self.unchecked_days - self.unmeasured_days - self.refused_days

    @property
    def refused_counts(self) -> dict[str, int]:
        """The numbers every refused-checks sentence names, by placeholder."""
        return {"refused": self.refused_checks, "all": self.all_checks, "days": self.days}

    @property
    def sentence(self) -> str:
        # Never "not checked": a card may show a visitor's check seconds old
        # beside this, and only the scheduled history feeds the bar.
        if self.percent is None and self.refused_checks:
            return (
                ngettext(
                    "No uptime measured: Blocked for our server in %(refused)d of %(all)d check "
                    "over the last %(days)d days. The service answered, but refused our checks, "
                    "so we can't see whether it is up for you.",
                    "No uptime measured: Blocked for our server in %(refused)d of %(all)d checks "
                    "over the last %(days)d days. The service answered, but refused our checks, "
                    "so we can't see whether it is up for you.",
                    self.all_checks,
                )
                % self.refused_counts
            )
        if self.percent is None and self.unmeasured_days:
            return gettext(
                "No uptime measured yet: each time we checked in the last %(days)d days, "
                "our own checks could not reach the internet."
            ) % {"days": self.days}
        if self.percent is None:
            return gettext("No uptime history yet: nothing measured in the last %(days)d days.") % {
                "days": self.days
            }
        # Clauses joined by semicolons: each one is whole, so a translation need not
        # know which of the others are present.
        parts = [
            ngettext(
                "Up %(percent)s over the %(count)d day we checked in the last %(days)d",
                "Up %(percent)s over the %(count)d days we checked in the last %(days)d",
                self.measured_days,
            )
            % {
                "percent": format_percent(self.percent),
                "count": self.measured_days,
                "days": self.days,
            },
            ngettext(
                "%(count)d day with problems", "%(count)d days with problems", self.problem_days
            )
            % {"count": self.problem_days},
        ]
        if self.unmeasured_days:
            parts.append(
                ngettext(
                    "%(count)d day not measured because our own checks could not reach "
                    "the internet",
                    "%(count)d days not measured because our own checks could not reach "
                    "the internet",
                    self.unmeasured_days,
                )
                % {"count": self.unmeasured_days}
            )
        if self.refused_checks:
            parts.append(
                ngettext(
                    "blocked for our server in %(refused)d of %(all)d check over the last "
                    "%(days)d days, which count neither as up nor as down",
                    "blocked for our server in %(refused)d of %(all)d checks over the last "
                    "%(days)d days, which count neither as up nor as down",
                    self.all_checks,
                )
                % self.refused_counts
            )
        return gettext("%(clauses)s.") % {"clauses": gettext("; ").join(parts)}


def format_percent(value: float) -> str:
    # 99.95 must not round up to "100%": that would hide a problem.
    text = f"{int(value * 10) / 10:.1f}"
    return f"{text.removesuffix('.0')}%"


def summarise_uptime(days: Sequence[Day]) -> UptimeSummary:
    """Uptime over measured samples only: impaired and refused checks neither help nor hurt."""
    checked = [d for d in days if d.samples]
    refused = [d for d in days if not d.samples and d.refused]
    unmeasured = [d for d in days if not d.samples and not d.refused and d.unmeasured]
    total = sum(d.samples for d in checked)
    ok = sum(d.ok_samples for d in checked)
    return UptimeSummary(
        percent=100 * ok / total if total else None,
        problem_days=sum(1 for d in checked if d.ok_samples < d.samples),
        unchecked_days=len(days) - len(checked) - len(unmeasured) - len(refused),
        days=len(days),
        unmeasured_days=len(unmeasured),
        refused_days=len(refused),
        refused_checks=sum(d.refused for d in days),
        all_checks=sum(d.samples + d.refused + d.unmeasured for d in days),
    )


def day_fill(day: Day) -> tuple[str, str]:
    """(colour, word) for one day's bar; a day without data is never drawn as up."""
    ratio = day.ratio
    if ratio is None and day.refused:
        return FILL_REFUSED, "blocked for our server"
    if ratio is None and day.unmeasured:
        return FILL_UNCHECKED, "not measured"
    if ratio is None:
        return FILL_UNCHECKED, "not checked"
    if ratio >= 1:
        return FILL_UP, "up"
    if ratio >= PARTIAL_AT:
        return FILL_PARTIAL, "some problems"
    return FILL_DOWN, "problems"


def _measured_day_title(day: Day, ratio: float) -> str:
    """A day with measured checks: one whole sentence for each way the bar is drawn."""
    values = {"day": day.day, "percent": format_percent(100 * ratio), "count": day.samples}
    _, word = day_fill(day)
    if word == "up":
        text = ngettext(
            "%(day)s: up, %(percent)s of %(count)d check OK",
            "%(day)s: up, %(percent)s of %(count)d checks OK",
            day.samples,
        )
    elif word == "some problems":
        text = ngettext(
            "%(day)s: some problems, %(percent)s of %(count)d check OK",
            "%(day)s: some problems, %(percent)s of %(count)d checks OK",
            day.samples,
        )
    else:
        text = ngettext(
            "%(day)s: problems, %(percent)s of %(count)d check OK",
            "%(day)s: problems, %(percent)s of %(count)d checks OK",
            day.samples,
        )
    return text % values


def _day_title(day: Day) -> str:
    if day.ratio is None and day.refused:
        return ngettext(
            "%(day)s: blocked for our server in %(count)d check; the service answered but "
            "refused us, so we can't see whether it was up",
            "%(day)s: blocked for our server in %(count)d checks; the service answered but "
            "refused us, so we can't see whether it was up",
            day.refused,
        ) % {"day": day.day, "count": day.refused}
    if day.ratio is None and day.unmeasured:
        return gettext("%(day)s: not measured, our own checks could not reach the internet") % {
            "day": day.day
        }
    if day.ratio is None:
        return gettext("%(day)s: not checked") % {"day": day.day}
    title = _measured_day_title(day, day.ratio)
    if day.refused:
        title = ngettext(
            "%(title)s; %(count)d more check blocked for our server",
            "%(title)s; %(count)d more checks blocked for our server",
            day.refused,
        ) % {"title": title, "count": day.refused}
    return title


def uptime_bar(days: Sequence[Day], *, chart_id: str, label: str) -> SafeString:
    """One bar per day, oldest left. ``chart_id`` makes the title/desc ids unique."""
    summary = summarise_uptime(days)
    width = len(days) * (BAR_WIDTH + BAR_GAP) - BAR_GAP if days else BAR_WIDTH
    bars = []
    for index, day in enumerate(days):
        colour, word = day_fill(day)
        height = BAR_HEIGHT
        if day.ratio is None:
            height = REFUSED_HEIGHT if day.refused else UNCHECKED_HEIGHT
        bars.append(
            (
                index * (BAR_WIDTH + BAR_GAP),
                BAR_HEIGHT - height,
                BAR_WIDTH,
                height,
                colour,
                "bar bar-" + word.replace(" ", "-"),
                _day_title(day),
            )
        )
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" rx="1" fill="{}" class="{}">'
        "<title>{}</title></rect>",
        bars,
    )
    return format_html(
        '<svg class="chart uptime-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {} {}" preserveAspectRatio="none" width="100%" height="{}" '
        'aria-labelledby="{}-title {}-desc" focusable="false">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        width,
        BAR_HEIGHT,
        BAR_HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        label,
        chart_id,
        summary.sentence,
        body,
    )


@dataclass(frozen=True)
class LatencyPoint:
    at: datetime
    latency_ms: float | None  # None: the probe got no answer worth timing
    ok: bool


@dataclass(frozen=True)
class LatencySummary:
    points: int
    failures: int
    median_ms: float | None
    max_ms: float | None
    # Checks left off the line: the service refused our server, so they time the refusal.
    refused: int = 0

    @property
    def sentence(self) -> str:
        if not self.points and self.refused:
            return ngettext(
                "No response times: %(count)d check in the last 24 hours was blocked for our "
                "server, and a refusal's timing is not the service's.",
                "No response times: %(count)d checks in the last 24 hours were blocked for our "
                "server, and a refusal's timing is not the service's.",
                self.refused,
            ) % {"count": self.refused}
        if not self.points:
            return gettext("Not checked in the last 24 hours.")
        # Whole clauses joined by semicolons, as in UptimeSummary.sentence.
        parts = [
            ngettext(
                "%(count)d check in the last 24 hours",
                "%(count)d checks in the last 24 hours",
                self.points,
            )
            % {"count": self.points}
        ]
        if self.median_ms is not None and self.max_ms is not None:
            parts.append(
                gettext("median response %(median).0f ms, slowest %(max).0f ms")
                % {"median": self.median_ms, "max": self.max_ms}
            )
        parts.append(
            ngettext("%(count)d failed check", "%(count)d failed checks", self.failures)
            % {"count": self.failures}
        )
        if self.refused:
            parts.append(
                ngettext(
                    "%(count)d more blocked for our server, left off the line",
                    "%(count)d more blocked for our server, left off the line",
                    self.refused,
                )
                % {"count": self.refused}
            )
        return gettext("%(clauses)s.") % {"clauses": gettext("; ").join(parts)}


def summarise_latency(points: list[LatencyPoint], refused: int = 0) -> LatencySummary:
    timed = sorted(p.latency_ms for p in points if p.latency_ms is not None)
    median = timed[len(timed) // 2] if timed else None
    return LatencySummary(
        points=len(points),
        failures=sum(1 for p in points if not p.ok),
        median_ms=median,
        max_ms=timed[-1] if timed else None,
        refused=refused,
    )


CHART_W = 600
CHART_H = 160
PAD_LEFT = 72
PAD_RIGHT = 22
PAD_TOP = 10
PAD_BOTTOM = 24
# A failed check is marked this far below the plot's floor, on its own row.
FAIL_ROW = 6


def _nice_ceiling(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at least the value."""
    if value <= 0:
        return 100.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step  # pragma: no cover  (the loop always returns)


@dataclass(frozen=True)
class _Frame:
    """Where a moment and a response time land on the latency chart."""

    start: datetime
    end: datetime
    top: float  # the axis's highest value, in ms

    plot_w = CHART_W - PAD_LEFT - PAD_RIGHT
    plot_h = CHART_H - PAD_TOP - PAD_BOTTOM

    def x(self, moment: datetime) -> float:
        share = (moment - self.start) / (self.end - self.start)
        return round(PAD_LEFT + max(0.0, min(1.0, share)) * self.plot_w, 1)

    def y(self, ms: float) -> float:
        return round(PAD_TOP + self.plot_h - (ms / self.top) * self.plot_h, 1)


def _segments(timed: list[LatencyPoint]) -> list[list[LatencyPoint]]:
    """Runs of timed checks; a gap over three sample intervals starts a new run."""
    segments: list[list[LatencyPoint]] = []
    gap = _typical_gap(timed) * 3
    for point in timed:
        if segments and point.at - segments[-1][-1].at <= gap:
            segments[-1].append(point)
        else:
            segments.append([point])
    return segments


def _latency_axes(frame: _Frame) -> list[SafeString]:
    """Dashed lines at 0, half and the top, and the hours along the bottom."""
    grid = [
        (frame.y(frame.top * f), _ms(frame.top * f), frame.y(frame.top * f) + 4)
        for f in (0, 0.5, 1)
    ]
    # The 6 h and 18 h labels are "minor": a phone's stylesheet hides them to avoid overlap.
    hours = [
        (
            frame.x(frame.start + timedelta(hours=h)),
            CHART_H - 4,
            "tick tick-minor" if h in (6, 18) else "tick",
            f"{(frame.start + timedelta(hours=h)):%H:%M}",
        )
        for h in (0, 6, 12, 18, 24)
    ]
    return [
        format_html_join(
            "",
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1" '
            'stroke-dasharray="2 3"/>'
            '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="{}">{}</text>',
            (
                (PAD_LEFT, CHART_W - PAD_RIGHT, y, y, FILL_AXIS, PAD_LEFT - 6, ty, FILL_AXIS, text)
                for y, text, ty in grid
            ),
        ),
        format_html_join(
            "",
            '<text x="{}" y="{}" class="{}" text-anchor="middle" font-size="11" '
            'fill="{}">{}</text>',
            ((x, y, cls, FILL_AXIS, text) for x, y, cls, text in hours),
        ),
    ]


def _latency_series(frame: _Frame, ordered: list[LatencyPoint]) -> list[SafeString]:
    """The line through timed checks (a dot for a lone one) and a mark per failed check."""
    lines = []
    dots = []
    for segment in _segments([p for p in ordered if p.latency_ms is not None]):
        coords = " ".join(f"{frame.x(p.at)},{frame.y(p.latency_ms or 0)}" for p in segment)
        if len(segment) > 1:
            lines.append(coords)
        else:
            only = segment[0]
            dots.append((frame.x(only.at), frame.y(only.latency_ms or 0)))
    failures = [
        (
            frame.x(p.at),
            PAD_TOP + frame.plot_h + FAIL_ROW,
            gettext("%(time)s UTC: failed") % {"time": f"{p.at:%H:%M}"},
        )
        for p in ordered
        if not p.ok
    ]
    return [
        format_html_join(
            "",
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
            'stroke-linejoin="round"/>',
            ((coords, LINE_LATENCY) for coords in lines),
        ),
        format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="2.5" fill="{}"/>',
            ((x, y, LINE_LATENCY) for x, y in dots),
        ),
        format_html_join(
            "",
            '<rect x="{}" y="{}" width="3" height="8" fill="{}"><title>{}</title></rect>',
            ((x - 1.5, y - 4, FILL_DOWN, text) for x, y, text in failures),
        ),
    ]


def latency_chart(
    points: list[LatencyPoint], *, end: datetime, chart_id: str, label: str
) -> SafeString:
    """The last 24 hours before ``end``: a line through timed checks, gaps where none ran.

    A gap longer than three sample intervals breaks the line rather than
    drawing a straight segment across hours nobody measured.
    """
    summary = summarise_latency(points)
    frame = _Frame(end - timedelta(hours=24), end, _nice_ceiling(summary.max_ms or 0))
    ordered = sorted(points, key=lambda p: p.at)
    parts = [*_latency_axes(frame), *_latency_series(frame, ordered)]
    return format_html(
        '<svg class="chart latency-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {} {}" width="100%" aria-labelledby="{}-title {}-desc" '
        'focusable="false"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        "{}{}{}{}{}</svg>",
        CHART_W,
        CHART_H,
        chart_id,
        chart_id,
        chart_id,
        label,
        chart_id,
        summary.sentence,
        *parts,
    )


def _ms(value: float) -> str:
    """An axis label short enough for a phone: "500 ms", "2 s", "1.5 s"."""
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f}".removesuffix(".0") + " s"


def _typical_gap(points: list[LatencyPoint]) -> timedelta:
    """The median spacing of the samples (at least five minutes)."""
    gaps = sorted(b.at - a.at for a, b in itertools.pairwise(points))
    floor = timedelta(minutes=5)
    return max(gaps[len(gaps) // 2], floor) if gaps else floor
