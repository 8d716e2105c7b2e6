"""The Celery app's beat start-up hook: a new site has a status within a minute."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from diagnostics.standins.processes import stop_process
from helpcenter.celery import app, run_at_start
from tests.conftest import ROOT, subprocess_env, wait_for
from tests.diagnostics.test_coalesce import unique_target


def test_beat_samples_the_targets_once_as_it_starts() -> None:
    tasks = [settings.CELERY_BEAT_SCHEDULE[name]["task"] for name in settings.BEAT_RUN_AT_START]
    assert "diagnostics.tasks.schedule_samples" in tasks
    # Everything named must be a real schedule entry, or beat would fail to start.
    assert set(settings.BEAT_RUN_AT_START) <= set(settings.CELERY_BEAT_SCHEDULE)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_start_up_hook_gets_a_new_target_sampled(edge: Any, celery_worker: Any) -> None:
    target = unique_target(edge, "/ok")

    assert run_at_start(app) == ["diagnostics.tasks.schedule_samples"]

    latest = wait_for(target.latest_sample, timeout=30)
    assert latest.outcome == "ok" and latest.measured


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_beat_samples_a_new_site_long_before_its_first_interval(
    edge: Any, celery_worker: Any, tmp_path: Path
) -> None:
    target = unique_target(edge, "/ok")
    # An hour between rounds: only the start-up sample can land within the wait below.
    env = subprocess_env(CHECKS_SAMPLE_SECONDS="3600")
    command = [
        sys.executable, "-m", "celery", "-A", "helpcenter", "beat", "--loglevel", "INFO",
        "--schedule", str(tmp_path / "celerybeat-schedule"),
    ]  # fmt: skip
    beat = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        latest = wait_for(target.latest_sample, timeout=60)
    finally:
        stop_process(beat)
    assert latest.outcome == "ok"
