"""Celery tasks: thin. Load ids, call the probes, store the rows."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from diagnostics.models import CheckRun, ProbeResult, Target
from diagnostics.probes.result import ProbeResult as ProbeAnswer
from diagnostics.probes.runner import ProbeSettings, ProbeSpec, run_probes
from diagnostics.probes.safety import AddressPolicy

log = logging.getLogger(__name__)


def probe_settings() -> ProbeSettings:
    return ProbeSettings(
        timeout=settings.PROBE_TIMEOUT,
        deadline=settings.PROBE_DEADLINE,
        user_agent=settings.PROBE_USER_AGENT,
        policy=AddressPolicy(
            allow_loopback=settings.PROBES_ALLOW_LOOPBACK,
            allow_private=settings.PROBES_ALLOW_PRIVATE,
        ),
        local_address=getattr(settings, "PROBE_SOURCE_ADDRESS", None) or None,
        cafile=getattr(settings, "PROBE_CA_FILE", None) or None,
    )


def specs_for(targets: list[Target]) -> list[ProbeSpec]:
    return [
        ProbeSpec(
            key=target.pk,
            probe=probe,
            url=target.url,
            expected_statuses=tuple(target.expected_statuses or (200,)),
            keyword=target.keyword or None,
            timeout=target.timeout_seconds,
            provider=target.provider or None,
        )
        for target in targets
        for probe in target.probes
    ]


@shared_task(
    acks_late=True,
    soft_time_limit=settings.CHECKS_SOFT_TIME_LIMIT,
    time_limit=settings.CHECKS_TIME_LIMIT,
)
def run_checks(run_id: str, region: str) -> None:
    """Probe every enabled target for one run from this worker's region."""
    run = CheckRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return  # expired, or already closed: a redelivery has nothing left to do
    targets = list(Target.objects.filter(enabled=True))

    def store(spec: ProbeSpec, answer: ProbeAnswer) -> None:
        data: dict[str, Any] = answer.to_dict()
        ProbeResult.store(run.pk, spec.key, region, data)

    run_probes(specs_for(targets), probe_settings(), store)
    run.close_if_complete()
