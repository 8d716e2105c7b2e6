"""'I have this problem too': crowd reports, their 24-hour chart and the surge banner.

Everything here is computed from stored CrowdReport rows, so the numbers are
the same on every web node and testable with rows whose times a test sets.

The banner rule: reports in the last CROWD_RECENT_MINUTES (30) exceed
max(CROWD_MIN_REPORTS, CROWD_FACTOR x the usual count). The usual count is the
median, over each of the past CROWD_BASELINE_DAYS (7) days, of the reports in
the same clock hour (UTC) as now, scaled from an hour to the recent window
(so 30 minutes count against half an hour's median). Days without a single
report count as zero: a quiet target's median is 0 and the floor of 5 rules.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from diagnostics.models import CrowdReport, Target

BUCKET_SECONDS = 600  # reports are counted per 10 minutes
CHART_HOURS = 24
CHART_HEIGHT = 60
BAR_WIDTH = 2


def recently_reported(target: Target, visitor: str, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.CROWD_REPORT_WINDOW_SECONDS)
    return CrowdReport.objects.filter(
        target=target, visitor_hash=visitor, created_at__gt=since
    ).exists()


def record(target: Target, visitor: str, now: datetime | None = None) -> bool:
    """Count one report; False (and nothing stored) when this visitor reported it recently.

    The visitor hash rotates at midnight UTC, so a visitor can count twice
    across midnight: harmless next to keeping something that lasts longer.
    """
    now = now or timezone.now()
    if recently_reported(target, visitor, now):
        return False
    CrowdReport.objects.create(target=target, visitor_hash=visitor, created_at=now)
    _announce_surge(target, now)
    return True


def _announce_surge(target: Target, now: datetime) -> None:
    """Tell listeners (operator alerts) when this report is the one that starts a surge.

    Only the crossing is announced, not every report above the line, so a
    surge is one event however many visitors join it.
    """
    from diagnostics import signals

    current = surge(target, now)
    if not current.active or current.recent - 1 > current.threshold:
        return
    transaction.on_commit(
        lambda: signals.announce(signals.crowd_surge, Target, target=target, surge=current, at=now)
    )


@dataclass(frozen=True)
class Surge:
    recent: int  # reports in the recent window
    minutes: int  # how long the recent window is
    usual_per_hour: float  # median for this hour of day over the baseline days
    threshold: float  # the banner shows when recent exceeds this

    @property
    def active(self) -> bool:
        return self.recent > self.threshold


def surge(target: Target, now: datetime | None = None) -> Surge:
    """The banner's numbers for one target, from two queries."""
    now = now or timezone.now()
    recent_minutes = settings.CROWD_RECENT_MINUTES
    reports = CrowdReport.objects.filter(target=target)
    recent = reports.filter(
        created_at__gt=now - timedelta(minutes=recent_minutes), created_at__lte=now
    ).count()
    hour = now.replace(minute=0, second=0, microsecond=0)
    days = range(1, settings.CROWD_BASELINE_DAYS + 1)
    columns = {}
    for day in days:
        start = hour - timedelta(days=day)
        window = Q(created_at__gte=start, created_at__lt=start + timedelta(hours=1))
        columns[f"d{day}"] = Count("id", filter=window)
    counts = reports.aggregate(**columns) if columns else {}
    usual = float(statistics.median(counts.values())) if counts else 0.0
    threshold = max(
        float(settings.CROWD_MIN_REPORTS), settings.CROWD_FACTOR * usual * recent_minutes / 60
    )
    return Surge(recent, recent_minutes, usual, threshold)


@dataclass(frozen=True)
class Bar:
    start: datetime
    count: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Chart:
    """24 hours of 10-minute buckets, laid out for an inline SVG, with words for it."""

    bars: list[Bar]  # only buckets with reports: empty ones draw nothing
    total: int
    peak: Bar | None
    hourly: list[tuple[datetime, int]]  # hours with reports, oldest first (the text table)
    width: int
    height: int
    first: datetime
    last: datetime


def chart(target: Target, now: datetime | None = None) -> Chart:
    now = now or timezone.now()
    epoch = int(now.timestamp())
    end = datetime.fromtimestamp(epoch - epoch % BUCKET_SECONDS, tz=now.tzinfo) + timedelta(
        seconds=BUCKET_SECONDS
    )
    count = CHART_HOURS * 3600 // BUCKET_SECONDS
    first = end - timedelta(seconds=count * BUCKET_SECONDS)
    counts = [0] * count
    stamps = CrowdReport.objects.filter(
        target=target, created_at__gte=first, created_at__lt=end
    ).values_list("created_at", flat=True)
    for stamp in stamps.iterator():
        counts[int((stamp - first).total_seconds()) // BUCKET_SECONDS] += 1
    tallest = max(counts) or 1
    bars = []
    for index, n in enumerate(counts):
        if not n:
            continue
        # At least 2 units tall so a single report stays visible next to a spike.
        height = max(2.0, round(n / tallest * (CHART_HEIGHT - 4), 1))
        start = first + timedelta(seconds=index * BUCKET_SECONDS)
        bars.append(Bar(start, n, index * BAR_WIDTH, CHART_HEIGHT - height, height))
    hourly: dict[datetime, int] = {}
    for bar in bars:
        hour = bar.start.replace(minute=0, second=0, microsecond=0)
        hourly[hour] = hourly.get(hour, 0) + bar.count
    return Chart(
        bars=bars,
        total=sum(counts),
        peak=max(bars, key=lambda bar: bar.count) if bars else None,
        hourly=sorted(hourly.items()),
        width=count * BAR_WIDTH,
        height=CHART_HEIGHT,
        first=first,
        last=end,
    )


@dataclass(frozen=True)
class TargetCrowd:
    target: Target
    surge: Surge
    chart: Chart
    reported: bool  # this visitor already reported within the window


def for_targets(
    targets: list[Target], visitor: str, now: datetime | None = None
) -> list[TargetCrowd]:
    now = now or timezone.now()
    return [
        TargetCrowd(t, surge(t, now), chart(t, now), recently_reported(t, visitor, now))
        for t in targets
    ]


def crowd_targets(service_id: int | None = None) -> list[Target]:
    """Targets people can report: the enabled web apps (what a visitor actually opens).

    With a service, only its own: a report is about one service's web app, so
    one service's reports, counts and surges never show under another's name.
    Without, every service's, in the services' order.
    """
    targets = Target.objects.filter(enabled=True, kind=Target.Kind.WEB_APP)
    if service_id is not None:
        targets = targets.filter(service_id=service_id)
    return list(
        targets.select_related("service").order_by("service__order", "service__name", "order")
    )
