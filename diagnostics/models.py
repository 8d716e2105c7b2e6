"""What the diagnostics know: the targets to probe, each visitor's run, and its results."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

OUTCOME_LABELS = {
    "ok": "OK",
    "degraded": "Degraded",
    "blocked": "Blocked",
    "challenged": "Challenged",
    "down": "Down",
    "error": "Error",
    "timeout": "Timed out",
    "unknown": "Unclear",
}


class Target(models.Model):
    """Something worth probing: a web app, an API host, a status page or a control site."""

    class Kind(models.TextChoices):
        WEB_APP = "web", "Web app"
        API = "api", "API"
        STATUS_PAGE = "status", "Status page"
        CONTROL = "control", "Control (tells whether our own network works)"

    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    url = models.URLField(max_length=500)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WEB_APP)
    probes = models.JSONField(default=list, help_text='Which probes to run, e.g. ["http"]')
    expected_statuses = models.JSONField(default=list, blank=True, help_text="e.g. [200]")
    keyword = models.CharField(max_length=200, blank=True)
    timeout_seconds = models.FloatField(default=5.0)
    provider = models.CharField(max_length=20, blank=True, help_text="Status pages only")
    enabled = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class CheckRun(models.Model):
    """One press of "Run checks". Its id is the unguessable, shareable report URL."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        UNAVAILABLE = "unavailable", "Checks unavailable"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    regions = models.JSONField(default=list)
    expected_results = models.PositiveIntegerField(default=0)
    article_slug = models.SlugField(max_length=120, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)

    def get_absolute_url(self) -> str:
        return reverse("diagnostics:report", kwargs={"run_id": self.id})

    @property
    def is_finished(self) -> bool:
        return self.state != self.State.RUNNING

    @property
    def is_delayed(self) -> bool:
        """Still running past the deadline: a worker is missing or a probe is stuck."""
        deadline = timedelta(seconds=settings.CHECKS_DELAYED_AFTER)
        return self.state == self.State.RUNNING and timezone.now() - self.created_at > deadline

    def mark_unavailable(self, note: str) -> None:
        self.state = self.State.UNAVAILABLE
        self.note = note
        self.finished_at = timezone.now()
        self.save(update_fields=["state", "note", "finished_at"])

    def close_if_complete(self) -> bool:
        """Mark the run complete once every server-side probe has a result row."""
        if self.results.count() < self.expected_results:
            return False
        # The filter makes concurrent closers (one task per region) agree.
        CheckRun.objects.filter(pk=self.pk, state=self.State.RUNNING).update(
            state=self.State.COMPLETE, finished_at=timezone.now()
        )
        self.refresh_from_db(fields=["state", "finished_at"])
        return True


class ProbeResult(models.Model):
    """One probe's answer about one target from one region, for one run."""

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="results")
    region = models.CharField(max_length=40)
    probe = models.CharField(max_length=20)
    outcome = models.CharField(max_length=12)
    summary = models.CharField(max_length=300)
    latency_ms = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["target__order", "target__name", "probe", "region"]
        constraints = [
            # A redelivered task rewrites its rows instead of adding duplicates.
            models.UniqueConstraint(
                fields=["run", "target", "region", "probe"], name="one_result_per_probe"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.probe} {self.outcome}"

    def get_outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    @classmethod
    def store(cls, run_id: Any, target_id: int, region: str, data: dict[str, Any]) -> None:
        cls.objects.update_or_create(
            run_id=run_id,
            target_id=target_id,
            region=region,
            probe=data["probe"],
            defaults={
                "outcome": data["outcome"],
                "summary": data["summary"][:300],
                "latency_ms": data.get("latency_ms"),
                "evidence": data.get("evidence") or {},
            },
        )
