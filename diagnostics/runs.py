"""Starting a check run: the one place that turns a button press into queued work."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from diagnostics.models import CheckRun, Target

log = logging.getLogger(__name__)

UNAVAILABLE_NOTE = "Checks are unavailable right now. The guide below still works; try again soon."


def queue_name(region: str) -> str:
    return f"checks.{region}"


def live_regions() -> list[str]:
    return [settings.CHECKS_REGION]


def start_run(article_slug: str = "") -> CheckRun:
    """Create a run and enqueue one task per region once the row is committed."""
    regions = live_regions()
    probes_per_region = sum(len(t.probes) for t in Target.objects.filter(enabled=True))
    run = CheckRun.objects.create(
        regions=regions,
        expected_results=probes_per_region * len(regions),
        article_slug=article_slug,
    )
    transaction.on_commit(lambda: _dispatch(run))
    return run


def _dispatch(run: CheckRun) -> None:
    from diagnostics.tasks import run_checks

    try:
        for region in run.regions:
            # retry=False: with the broker down, say so now instead of hanging the request.
            run_checks.apply_async((str(run.pk), region), queue=queue_name(region), retry=False)
    except Exception:
        log.exception("could not enqueue check run %s", run.pk)
        run.mark_unavailable(UNAVAILABLE_NOTE)
