"""The Celery app: the only path by which work leaves the request cycle."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpcenter.settings")

app = Celery("helpcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def run_at_start(celery: Celery) -> list[str]:
    """Send once, now, the beat entries named in settings.BEAT_RUN_AT_START.

    Beat runs an interval entry only after its first full interval: without
    this, a new site (or one back after a restart) shows "not checked yet"
    for five minutes. Tasks go by name, so helpcenter imports no task module.
    Returns the task names sent.
    """
    from django.conf import settings

    sent: list[str] = []
    for name in settings.BEAT_RUN_AT_START:
        entry: dict[str, Any] = settings.CELERY_BEAT_SCHEDULE[name]
        task = str(entry["task"])
        celery.send_task(
            task,
            args=entry.get("args", ()),
            kwargs=entry.get("kwargs", {}),
            **entry.get("options", {}),
        )
        sent.append(task)
    return sent


@signals.beat_init.connect
def _run_at_start(sender: Any, **kwargs: Any) -> None:
    run_at_start(sender.app)
