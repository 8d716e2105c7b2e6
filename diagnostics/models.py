"""What the diagnostics know: the targets to probe, each visitor's run, and its results."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from diagnostics import marks
from diagnostics.claims import SENTENCES, STARTER_CLAIMS, unguaranteed
from diagnostics.coalesce import Job
from diagnostics.probes.cloudflare import read_pasted_error, read_pasted_time
from diagnostics.probes.result import without_control_chars_deep
from diagnostics.verdict import (
    BROWSER,
    SERVER,
    VISITOR_ANSWERS,
    Findings,
    FixLink,
    Observation,
    RuleData,
    Verdict,
    decide,
    split_tokens,
    visitor_observations,
)
from helpcenter.text import without_control_chars

if TYPE_CHECKING:
    from collections.abc import Iterable


# A control answering with either of these proves our network reached the internet.
REACHED = frozenset({"ok", "degraded"})
# The service answered, with a Cloudflare block or challenge for our server: not
# down, yet what the public gets is unknown to us. Uptime counts these apart.
REFUSED = frozenset({"blocked", "challenged"})

# Marked for makemessages here, translated where shown (a module constant is read
# before any request has chosen a language).
OUTCOME_LABELS = {
    "ok": gettext_noop("OK"),
    "degraded": gettext_noop("Degraded"),
    "maintenance": gettext_noop("Maintenance"),
    "blocked": gettext_noop("Blocked"),
    "challenged": gettext_noop("Challenged"),
    "down": gettext_noop("Down"),
    "error": gettext_noop("Error"),
    "timeout": gettext_noop("Timed out"),
    "unknown": gettext_noop("Unclear"),
}


class TargetQuerySet(models.QuerySet["Target"]):
    def checked_for(self, service_id: int | None) -> TargetQuerySet:
        """The enabled targets a run about this service probes: its own and the shared ones.

        Shared targets belong to no service: the controls (whether our own network
        works) and what every service sits behind (Cloudflare's status page). A
        run with no service (runs stored before services existed) gets only those.
        """
        shared = models.Q(service__isnull=True)
        wanted = shared | models.Q(service_id=service_id) if service_id else shared
        return self.filter(wanted, enabled=True)


class Target(models.Model):
    """Something worth probing: a web app, an API host, a status page or a control site."""

    class Kind(models.TextChoices):
        WEB_APP = "web", _("Web app")
        API = "api", _("API")
        STATUS_PAGE = "status", _("Status page")
        CONTROL = "control", _("Control (tells whether our own network works)")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    slug = models.SlugField(unique=True, verbose_name=_("slug"))
    # PROTECT: deleting a service must not silently take its history with it.
    service = models.ForeignKey(
        "helpcenter.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
        help_text=_(
            "The service this target checks. Empty: every service's checks use it "
            "(controls, and what all services sit behind, such as Cloudflare's status page)."
        ),
        verbose_name=_("service"),
    )
    url = models.URLField(max_length=500, verbose_name=_("url"))
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.WEB_APP, verbose_name=_("kind")
    )
    probes = models.JSONField(
        default=list, help_text=_('Which probes to run, e.g. ["http"]'), verbose_name=_("probes")
    )
    expected_statuses = models.JSONField(
        default=list, blank=True, help_text=_("e.g. [200]"), verbose_name=_("expected statuses")
    )
    keyword = models.CharField(max_length=200, blank=True, verbose_name=_("keyword"))
    timeout_seconds = models.FloatField(default=5.0, verbose_name=_("timeout seconds"))
    provider = models.CharField(
        max_length=20, blank=True, help_text=_("Status pages only"), verbose_name=_("provider")
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    browser_check = models.BooleanField(
        default=False,
        help_text=_(
            "Also ask the visitor's browser whether it can reach this target "
            "(web apps and controls). Its origin is added to the report page's connect-src."
        ),
        verbose_name=_("browser check"),
    )
    browser_url = models.URLField(
        max_length=500,
        blank=True,
        help_text=_("The address the browser fetches; blank = URL."),
        verbose_name=_("browser url"),
    )

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Names are shown on every report and status page; PostgreSQL refuses NUL.
        self.name = without_control_chars(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.kind == self.Kind.CONTROL and self.service_id is not None:
            # A control answers "does our own network work?", the same for every service.
            raise ValidationError(
                {
                    "service": gettext(
                        "A control belongs to no service: every service's checks use it."
                    )
                }
            )

    def get_browser_url(self) -> str:
        return self.browser_url or self.url

    def jobs(self, region: str) -> list[Job]:
        """One coalescing job per probe of this target, from ``region``."""
        version = self.config_version
        return [
            Job(
                target_id=self.pk,
                config_version=version,
                region=region,
                probe=probe,
                target_name=self.name,
                target_slug=self.slug,
                url=self.url,
                expected_statuses=tuple(self.expected_statuses or (200,)),
                keyword=self.keyword or None,
                timeout=self.timeout_seconds,
                provider=self.provider or None,
            )
            for probe in self.probes
        ]

    def browser_observation(self, outcome: str) -> Observation:
        return Observation(BROWSER, self.slug, self.kind, "fetch", outcome)

    @property
    def config_version(self) -> str:
        """A short digest of everything a probe reads from this target.

        Part of every coalescing key, so an admin's edit is probed afresh at once
        instead of visitors being served an answer about the old settings.
        """
        config = [
            self.url,
            self.probes,
            self.expected_statuses,
            self.keyword,
            self.timeout_seconds,
            self.provider,
        ]
        raw = json.dumps(config, sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()[:12]

    def latest_sample(self, region: str | None = None) -> ProbeSample | None:
        """The newest history sample, or None when this target was never probed."""
        samples = self.samples.all()
        if region is not None:
            samples = samples.filter(region=region)
        return samples.order_by("-probed_at").first()

    def uptime_days(
        self, days: int = 90, region: str | None = None, probe: str | None = None
    ) -> list[DayUptime]:
        """One entry per day, oldest first; a day with no data has ``ratio`` None.

        ``probe`` limits it to one probe's samples (None: all of them).

        Finished days come from the daily rollups, days still held as raw
        samples (today, and any day the prune task has not rolled up yet) from
        the samples, so the page never shows a bar it has no data for.
        """
        today = timezone.now().date()
        first = today - timedelta(days=days - 1)
        totals: dict[date, list[int]] = {}  # day -> [measured, ok, unmeasured, refused]
        rollups = self.rollups.filter(day__gte=first)
        samples = self.samples.filter(probed_at__date__gte=first)
        if region is not None:
            rollups = rollups.filter(region=region)
            samples = samples.filter(region=region)
        if probe is not None:
            rollups = rollups.filter(probe=probe)
            samples = samples.filter(probe=probe)
        rows = rollups.values_list(
            "day", "samples", "ok_samples", "unmeasured_samples", "refused_samples"
        )
        for day, count, ok, unmeasured, refused in rows:
            counts = totals.setdefault(day, [0, 0, 0, 0])
            counts[0] += count
            counts[1] += ok
            counts[2] += unmeasured
            counts[3] += refused
        rolled_up = set(totals)
        for probed_at, outcome, measured in samples.values_list("probed_at", "outcome", "measured"):
            day = probed_at.astimezone(UTC).date()
            if day in rolled_up:
                continue  # already counted in that day's rollup
            counts = totals.setdefault(day, [0, 0, 0, 0])
            if not measured:
                counts[2] += 1
            elif outcome in REFUSED:
                counts[3] += 1
            else:
                counts[0] += 1
                counts[1] += outcome == "ok"
        result = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            count, ok, unmeasured, refused = totals.get(day, (0, 0, 0, 0))
            result.append(DayUptime(day, count, ok, unmeasured, refused))
        return result


@dataclass(frozen=True)
class DayUptime:
    """One day of a target's history; ``ratio`` is None when nothing was measured.

    ``samples`` and ``ok_samples`` count measured samples only; ``unmeasured``
    counts those taken while our own checks could not reach the internet, and
    ``refused`` those the service answered with a block or challenge for our
    server: it answered, so it was not down, yet we could not see whether it
    was up for the public. Neither counts for or against uptime.
    """

    day: date
    samples: int
    ok_samples: int
    unmeasured: int = 0
    refused: int = 0

    @property
    def ratio(self) -> float | None:
        return self.ok_samples / self.samples if self.samples else None


class CheckRun(models.Model):
    """One press of "Run checks". Its id is the unguessable, shareable report URL."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        COMPLETE = "complete", _("Complete")
        UNAVAILABLE = "unavailable", _("Checks unavailable")

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.RUNNING, verbose_name=_("state")
    )
    regions = models.JSONField(default=list, verbose_name=_("regions"))
    expected_results = models.PositiveIntegerField(default=0, verbose_name=_("expected results"))
    # The service the visitor asked about: its targets (and the controls) are
    # what this run probes. Empty only for runs stored before services existed.
    service = models.ForeignKey(
        "helpcenter.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("service"),
    )
    article_slug = models.SlugField(max_length=120, blank=True, verbose_name=_("article slug"))
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    # What the visitor told us. Of pasted error text only these three survive:
    # the page they copy shows their IP address, which we never store.
    visitor_answer = models.CharField(max_length=20, blank=True, verbose_name=_("visitor answer"))
    pasted_code = models.CharField(max_length=8, blank=True, verbose_name=_("pasted code"))
    pasted_ray_id = models.CharField(max_length=16, blank=True, verbose_name=_("pasted ray id"))
    pasted_colo = models.CharField(max_length=3, blank=True, verbose_name=_("pasted colo"))
    # The time printed on the pasted page: the service's support looks it up by that.
    pasted_time = models.CharField(max_length=23, blank=True, verbose_name=_("pasted time"))
    # The browser's own checks: expected when the page ran our script, then filled in.
    browser_expected = models.BooleanField(default=False, verbose_name=_("browser expected"))
    browser_findings = models.JSONField(null=True, blank=True, verbose_name=_("browser findings"))

    class Meta:
        verbose_name = _("check run")
        verbose_name_plural = _("check runs")
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

    def impaired_regions(self, results: list[ProbeResult] | None = None) -> list[str]:
        """Regions where every control target failed: our own network, not the service.

        A region with no control results yet is not counted; "ok" and
        "degraded" both prove the region could reach the internet. ``results``:
        the run's rows with their targets, when the caller has them already
        (the report does), to spare a query per render.
        """
        reached: dict[str, bool] = {}
        if results is None:
            controls = self.results.filter(target__kind=Target.Kind.CONTROL)
            pairs = list(controls.values_list("region", "outcome"))
        else:
            control = Target.Kind.CONTROL
            pairs = [(r.region, r.outcome) for r in results if r.target.kind == control]
        for region, outcome in pairs:
            reached[region] = reached.get(region, False) or outcome in REACHED
        return sorted(region for region, ok in reached.items() if not ok)

    def impaired(self) -> bool:
        """Our checks are impaired: results must not read as "down for everyone"."""
        return bool(self.impaired_regions())

    def mark_unavailable(self, note: str) -> None:
        self.state = self.State.UNAVAILABLE
        self.note = note
        self.finished_at = timezone.now()
        self.save(update_fields=["state", "note", "finished_at"])
        _changed([self.pk])

    def close_if_complete(self) -> bool:
        """Mark the run complete once every server-side probe has a result row.

        True when this call closed it; False when rows are still missing or
        another closer (a task of another region, a lock owner) got there first.
        """
        now = timezone.now()
        if not CheckRun.close_complete([self.pk], now):
            return False
        self.state, self.finished_at = self.State.COMPLETE, now
        return True

    @classmethod
    def close_complete(cls, run_ids: list[Any], now: datetime | None = None) -> int:
        """Close every running run among ``run_ids`` that has all its rows, in one query.

        Counting and closing in one UPDATE (the count is a subquery) saves a round
        trip per run, and the state filter makes concurrent closers agree.
        """
        if not run_ids:
            return 0
        rows = (
            ProbeResult.objects.filter(run=models.OuterRef("pk"))
            .order_by()
            .values("run")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        have = Coalesce(models.Subquery(rows), 0)
        closed = cls.objects.filter(
            pk__in=run_ids, state=cls.State.RUNNING, expected_results__lte=have
        ).update(state=cls.State.COMPLETE, finished_at=now or timezone.now())
        if closed:
            _changed(run_ids)
        return closed

    @property
    def is_expired(self) -> bool:
        days = settings.CHECKS_REPORT_DAYS
        return timezone.now() - self.created_at > timedelta(days=days)

    @property
    def awaiting_browser(self) -> bool:
        """The page's script promised browser findings; wait for them, but not forever."""
        if not self.browser_expected or self.browser_findings is not None:
            return False
        deadline = timedelta(seconds=settings.CHECKS_DELAYED_AFTER)
        return timezone.now() - self.created_at <= deadline

    @property
    def has_verdict(self) -> bool:
        """The server's verdict is there once its checks are; the browser's refine it later."""
        return self.state == self.State.COMPLETE

    def record_answer(self, answer: str, pasted_text: str) -> None:
        """Keep the visitor's answer and the code, Ray ID and colo of pasted text: nothing else."""
        if answer in VISITOR_ANSWERS:
            self.visitor_answer = answer
        finding = read_pasted_error(pasted_text[:20_000]) if pasted_text.strip() else None
        if finding is not None:
            self.pasted_code = (finding.code or "")[:8]
            self.pasted_ray_id = (finding.ray_id or "")[:16]
            self.pasted_colo = (finding.colo or "")[:3]
            self.pasted_time = read_pasted_time(pasted_text[:20_000]) or ""
        fields = ["visitor_answer", "pasted_code", "pasted_ray_id", "pasted_colo", "pasted_time"]
        if not answer and finding is None:
            return  # nothing told: a press without an answer costs no write
        self.save(update_fields=fields)
        _changed([self.pk])

    def record_browser_findings(self, findings: dict[str, Any]) -> None:
        self.browser_findings = findings
        self.save(update_fields=["browser_findings"])
        _changed([self.pk])

    def findings(self, results: list[ProbeResult] | None = None) -> Findings:
        """Everything this run knows, as the plain shape diagnostics.verdict reads.

        ``results``: this run's rows with their targets, when the caller has them already.
        """
        rows = self.results.select_related("target") if results is None else results
        observations = [row.observation() for row in rows]
        browser = self.browser_findings or {}
        targets = {t.slug: t for t in Target.objects.filter(slug__in=browser.get("fetches", {}))}
        for slug, fetched in (browser.get("fetches") or {}).items():
            if slug in targets and fetched.get("outcome") != "skipped":
                observations.append(targets[slug].browser_observation(str(fetched["outcome"])))
        if browser.get("online") is not None:
            online = "ok" if browser["online"] else "failed"
            observations.append(Observation(BROWSER, probe="online", outcome=online))
        answer = visitor_observations(
            self.visitor_answer, self.pasted_code, self.pasted_ray_id, self.pasted_colo
        )
        return Findings(
            observations=tuple(answer + observations),
            visitor_answer=self.visitor_answer,
            browser_reported=self.browser_findings is not None,
            browser_online=browser.get("online"),
            service=self.service.slug if self.service else "",
        )

    def waiting_for(self, results: list[ProbeResult]) -> list[str]:
        """Names of the enabled targets some of whose probes have not answered yet."""
        have: dict[int, int] = {}
        for result in results:
            have[result.target_id] = have.get(result.target_id, 0) + 1
        regions = max(len(self.regions), 1)
        return [
            target.name
            for target in Target.objects.checked_for(self.service_id)
            if have.get(target.pk, 0) < len(target.probes) * regions
        ]

    def verdict(self, results: list[ProbeResult] | None = None) -> Verdict:
        return decide(self.findings(results), verdict_rules())


def _changed(run_ids: Iterable[Any]) -> None:
    """Tell polls these runs changed, once the change is visible to their renders."""
    ids = list(run_ids)
    transaction.on_commit(lambda: marks.changed(ids))


class ProbeAnswer(models.Model):
    """What one probe said, as stored: shared by a run's results and the history samples."""

    region = models.CharField(max_length=40, verbose_name=_("region"))
    probe = models.CharField(max_length=20, verbose_name=_("probe"))
    outcome = models.CharField(max_length=12, verbose_name=_("outcome"))
    summary = models.CharField(max_length=300, verbose_name=_("summary"))
    latency_ms = models.FloatField(null=True, blank=True, verbose_name=_("latency ms"))
    evidence = models.JSONField(default=dict, blank=True, verbose_name=_("evidence"))

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Probe answers arrive cleaned (ProbeResult.to_dict); this covers any other path.
        self.summary = without_control_chars(self.summary)
        self.evidence = without_control_chars_deep(self.evidence)
        super().save(*args, **kwargs)


class ProbeResult(ProbeAnswer):
    """One probe's answer about one target from one region, for one run."""

    run = models.ForeignKey(
        CheckRun, on_delete=models.CASCADE, related_name="results", verbose_name=_("run")
    )
    target = models.ForeignKey(
        Target, on_delete=models.CASCADE, related_name="results", verbose_name=_("target")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("probe result")
        verbose_name_plural = _("probe results")
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
        return gettext(OUTCOME_LABELS.get(self.outcome, self.outcome))

    def observation(self) -> Observation:
        evidence = self.evidence if isinstance(self.evidence, dict) else {}
        cloudflare = evidence.get("cloudflare") or {}
        return Observation(
            vantage=SERVER,
            target=self.target.slug,
            target_kind=self.target.kind,
            probe=self.probe,
            outcome=self.outcome,
            cloudflare_code=str(cloudflare.get("code") or ""),
            cloudflare_kind=str(cloudflare.get("kind") or ""),
            status_state=str(evidence.get("state") or "") if self.probe == "status" else "",
            ray_id=str(cloudflare.get("ray_id") or ""),
            colo=str(cloudflare.get("colo") or ""),
            region=self.region,
        )

    @classmethod
    def store(cls, run_id: Any, target_id: int, region: str, data: dict[str, Any]) -> None:
        cls.store_rows([(run_id, target_id, region, data)])

    @classmethod
    def store_rows(
        cls, rows: Iterable[tuple[Any, int, str, dict[str, Any]]], *, new_run: bool = False
    ) -> None:
        """Write (run, target, region, answer) rows in one upsert query.

        A redelivered task rewrites its rows instead of adding duplicates: the
        conflict on the unique (run, target, region, probe) key updates in place.
        ``new_run``: the rows belong to a run created in this transaction, which
        no poll can have seen yet, so there is no mark to clear.
        """
        unique: dict[tuple[str, int, str, str], ProbeResult] = {}
        for run_id, target_id, region, data in rows:
            # One statement may not touch a row twice (PostgreSQL refuses): last one wins.
            unique[(str(run_id), target_id, region, data["probe"])] = cls(
                run_id=run_id,
                target_id=target_id,
                region=region,
                probe=data["probe"],
                outcome=data["outcome"],
                summary=data["summary"][:300],
                latency_ms=data.get("latency_ms"),
                evidence=data.get("evidence") or {},
            )
        if not unique:
            return
        ProbeResult.objects.bulk_create(
            list(unique.values()),
            update_conflicts=True,
            unique_fields=["run", "target", "region", "probe"],
            update_fields=["outcome", "summary", "latency_ms", "evidence"],
        )
        if not new_run:
            _changed({row.run_id for row in unique.values()})


class ProbeSample(ProbeAnswer):
    """One periodic probe of one target from one region: the raw history, kept a few days."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="samples")
    probed_at = models.DateTimeField(default=timezone.now)
    # False when every control failed in the same round: our own network was
    # down, so this answer says nothing about the target and uptime skips it.
    measured = models.BooleanField(default=True)

    class Meta:
        ordering = ["-probed_at"]
        indexes = [
            models.Index(fields=["target", "region", "probe", "-probed_at"], name="sample_latest"),
            models.Index(fields=["probed_at"], name="sample_probed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.region} {self.probe} {self.outcome} {self.probed_at}"

    @classmethod
    def due_jobs(cls, region: str) -> list[Job]:
        """Enabled targets' probes whose last sample here is older than the minimum interval."""
        since = timezone.now() - timedelta(seconds=settings.CHECKS_MIN_INTERVAL_SECONDS)
        recent = set(
            cls.objects.filter(region=region, probed_at__gt=since).values_list("target_id", "probe")
        )
        targets = list(Target.objects.filter(enabled=True))
        return [j for t in targets for j in t.jobs(region) if (j.target_id, j.probe) not in recent]

    @classmethod
    def settle_round(cls, region: str, since: datetime) -> bool:
        """Mark one sampling round measured or not, from its control samples.

        The round is every sample of ``region`` probed since ``since``. When it
        holds control answers and none reached its control, our own checks
        could not reach the internet: all its samples, controls included, are
        marked not measured. Settling again after later answers arrive (a
        control that was still in flight) corrects the mark either way.
        Returns True when the round was impaired.
        """
        round_samples = cls.objects.filter(region=region, probed_at__gte=since)
        controls = round_samples.filter(target__kind=Target.Kind.CONTROL)
        outcomes = set(controls.values_list("outcome", flat=True))
        impaired = bool(outcomes) and not outcomes & REACHED
        round_samples.exclude(measured=not impaired).update(measured=not impaired)
        return impaired

    @classmethod
    def record(cls, target_id: int, region: str, data: dict[str, Any]) -> ProbeSample | None:
        """Store one answer as history; a "resting" answer sent nothing and is not a sample."""
        evidence = dict(data.get("evidence") or {})
        if evidence.get("resting"):
            return None
        probed_at = _parse_time(evidence.get("probed_at")) or timezone.now()
        # A reused answer can reach us twice (visitor window + beat): keep it once.
        sample, _ = cls.objects.get_or_create(
            target_id=target_id,
            region=region,
            probe=data["probe"],
            probed_at=probed_at,
            defaults={
                "outcome": data["outcome"],
                "summary": data["summary"][:300],
                "latency_ms": data.get("latency_ms"),
                "evidence": evidence,
            },
        )
        return sample


class DailyRollup(models.Model):
    """A finished day of samples folded into one row, kept long after the samples go."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="rollups")
    region = models.CharField(max_length=40)
    probe = models.CharField(max_length=20)
    day = models.DateField()
    samples = models.PositiveIntegerField()  # measured samples only, refused ones apart
    ok_samples = models.PositiveIntegerField()
    # Samples taken while our own checks could not reach the internet.
    unmeasured_samples = models.PositiveIntegerField(default=0)
    # Samples the service answered with a block or challenge for our server.
    refused_samples = models.PositiveIntegerField(default=0)
    avg_latency_ms = models.FloatField(null=True, blank=True)
    p95_latency_ms = models.FloatField(null=True, blank=True)
    worst_outcome = models.CharField(max_length=12)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "region", "probe", "day"], name="one_rollup_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.region} {self.probe} {self.day}"

    @classmethod
    def roll_up(cls, before: date) -> int:
        """Fold every day of raw samples before ``before`` into rollups; returns rows written.

        Rewrites a day's rollup from its samples each time, so running it twice
        (or after a late sample) gives the same rows.
        """
        groups: dict[tuple[int, str, str, date], list[tuple[str, float | None]]] = {}
        unmeasured: dict[tuple[int, str, str, date], int] = {}
        refused: dict[tuple[int, str, str, date], int] = {}
        rows = ProbeSample.objects.filter(probed_at__date__lt=before).values_list(
            "target_id", "region", "probe", "probed_at", "outcome", "latency_ms", "measured"
        )
        for target_id, region, probe, probed_at, outcome, latency, measured in rows.iterator():
            key = (target_id, region, probe, probed_at.astimezone(UTC).date())
            samples = groups.setdefault(key, [])
            if not measured:
                unmeasured[key] = unmeasured.get(key, 0) + 1
            elif outcome in REFUSED:
                refused[key] = refused.get(key, 0) + 1
                samples.append((outcome, None))  # the edge's timing, not the service's
            else:
                samples.append((outcome, latency))
        for (target_id, region, probe, day), samples in groups.items():
            latencies = sorted(lat for _, lat in samples if lat is not None)
            outcomes = [outcome for outcome, _ in samples]
            cls.objects.update_or_create(
                target_id=target_id,
                region=region,
                probe=probe,
                day=day,
                defaults={
                    "samples": len(samples) - refused.get((target_id, region, probe, day), 0),
                    "ok_samples": outcomes.count("ok"),
                    "unmeasured_samples": unmeasured.get((target_id, region, probe, day), 0),
                    "refused_samples": refused.get((target_id, region, probe, day), 0),
                    "avg_latency_ms": (
                        round(sum(latencies) / len(latencies), 1) if latencies else None
                    ),
                    "p95_latency_ms": _percentile(latencies, 0.95),
                    "worst_outcome": max(outcomes, key=_severity, default="unknown"),
                },
            )
        return len(groups)


# Worst last: what a day's bar shows when anything went wrong that day.
SEVERITY = [
    "ok",
    "degraded",
    "maintenance",
    "unknown",
    "challenged",
    "timeout",
    "error",
    "blocked",
    "down",
]


def _severity(outcome: str) -> int:
    return SEVERITY.index(outcome) if outcome in SEVERITY else SEVERITY.index("unknown")


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[index], 1)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- Verdict rules (editable in the admin; read by diagnostics.verdict) ---------


class RuleQuerySet(models.QuerySet["Rule"]):
    def as_data(self) -> list[RuleData]:
        """Enabled rules in order, as the plain shapes the pure verdict code reads.

        The fix links come as plain values, not model instances: a prefetch
        loaded every linked fix with its article (bodies and rendered HTML,
        ~100 KB each) into reference cycles that only the garbage collector's
        rare full passes free, and a web worker polling reports grew by ~20 MB.
        """
        rules = list(self.filter(enabled=True).select_related("target", "service"))
        links: dict[int, list[FixLink]] = {rule.pk: [] for rule in rules}
        rows = (
            RuleFix.objects.filter(rule__in=rules)
            .order_by("position", "id")
            .values_list(
                "rule_id",
                "fix_id",
                "fix__slug",
                "fix__title",
                "fix__article__slug",
                "fix__ask_if_it_worked",
                "fix__article__service__slug",
            )
        )
        for rule_id, fix_id, slug, title, article_slug, can_do, service in rows:
            url = reverse("fix", kwargs={"slug": article_slug, "fix_slug": slug})
            links[rule_id].append(FixLink(slug, title, url, fix_id, can_do, service or ""))
        return [rule.as_data(tuple(links[rule.pk])) for rule in rules]


_loaded_rules: tuple[float, list[RuleData]] | None = None


def verdict_rules() -> list[RuleData]:
    """The rules as data, kept by this process for CHECKS_RULES_SECONDS.

    Every verdict rendered (each report poll that finds the run finished, each
    answer and browser report) needs them, and they change a few times a year:
    loading them per render was two queries. An edit saved in this process
    clears them at once (forget_verdict_rules, wired in apps.py); other
    processes see it within the setting's seconds.
    """
    global _loaded_rules
    now = time.monotonic()
    if _loaded_rules is None or now - _loaded_rules[0] >= settings.CHECKS_RULES_SECONDS:
        _loaded_rules = (now, Rule.objects.as_data())
    return _loaded_rules[1]


def forget_verdict_rules(**kwargs: Any) -> None:
    global _loaded_rules
    _loaded_rules = None


class Rule(models.Model):
    """One row of the verdict table: conditions (blank = any) and what to tell the visitor.

    Conditions are plain fields compared for equality; nothing an editor types
    is evaluated as code. The first enabled rule, by order, whose conditions all
    hold gives the verdict.
    """

    class Vantage(models.TextChoices):
        ANY = "", _("Any")
        SERVER = "server", _("Our server")
        BROWSER = "browser", _("The visitor's browser")
        VISITOR = "visitor", _("What the visitor told us")

    class Tone(models.TextChoices):
        OK = "ok", _("Good news")
        WARN = "warn", _("Warning")
        BAD = "bad", _("Bad news")

    class Answer(models.TextChoices):
        ANY = "", _("Any")
        BLOCK_1020 = "block_1020", _("The 1020 page")
        RATE_LIMIT = "rate_limit", _("Too many requests")
        CHALLENGE_LOOP = "challenge_loop", _("Endless “Just a moment…”")
        BLANK_PAGE = "blank_page", _("A blank page")
        NO_LOAD = "no_load", _("Nothing loads")
        OTHER = "other", _("Something else")

    class RegionScope(models.TextChoices):
        ANY = "", _("From any region")
        SOME = "some", _("From some regions only (another region got the page)")
        EVERY = "every", _("From every region that checked the target")

    order = models.PositiveIntegerField(
        default=100, help_text=_("Lower runs first."), verbose_name=_("order")
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    name = models.CharField(
        max_length=120, help_text=_("For editors only."), verbose_name=_("name")
    )
    # Conditions on the run's service (empty: every service).
    service = models.ForeignKey(
        "helpcenter.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only for runs about this service; empty for every service."),
        verbose_name=_("service"),
    )
    # Conditions on one observation (all must hold on the same one).
    vantage = models.CharField(
        max_length=10, choices=Vantage.choices, blank=True, verbose_name=_("vantage")
    )
    target_kind = models.CharField(
        max_length=10, choices=Target.Kind.choices, blank=True, verbose_name=_("target kind")
    )
    target = models.ForeignKey(
        Target,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("target"),
    )
    probe = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("http, dns, tcp, tls, status, or fetch (browser)"),
        verbose_name=_("probe"),
    )
    outcomes = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Comma-separated, e.g. down, timeout, error"),
        verbose_name=_("outcomes"),
    )
    cloudflare_codes = models.CharField(
        max_length=100,
        blank=True,
        help_text=_(
            "Comma-separated codes or kinds: 1020, 1005, 522, block, rate_limit, "
            "challenge, origin_error"
        ),
        verbose_name=_("cloudflare codes"),
    )
    status_states = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("e.g. major_outage, partial_outage"),
        verbose_name=_("status states"),
    )
    # Conditions on the whole run.
    visitor_answer = models.CharField(
        max_length=20, choices=Answer.choices, blank=True, verbose_name=_("visitor answer")
    )
    controls_failed = models.BooleanField(
        null=True,
        blank=True,
        help_text=_(
            "All control targets failed (from the browser if vantage is browser, "
            "else from our server). Unknown = any."
        ),
        verbose_name=_("controls failed"),
    )
    region_scope = models.CharField(
        max_length=5,
        choices=RegionScope.choices,
        blank=True,
        help_text=_(
            "With several check regions: where our server must have seen the observation above."
        ),
        verbose_name=_("region scope"),
    )
    # The verdict.
    code = models.SlugField(
        max_length=60, help_text=_("Stable verdict code, e.g. blocked-1020"), verbose_name=_("code")
    )
    headline = models.CharField(max_length=200, verbose_name=_("headline"))
    explanation = models.TextField(blank=True, verbose_name=_("explanation"))
    tone = models.CharField(
        max_length=4, choices=Tone.choices, default=Tone.WARN, verbose_name=_("tone")
    )
    fixes = models.ManyToManyField(
        "helpcenter.Fix", through="RuleFix", blank=True, related_name="+", verbose_name=_("fixes")
    )

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def clean(self) -> None:
        """Refuse text that claims what the rule's conditions do not ensure."""
        wrong = unguaranteed(self.as_data(()))
        if wrong:
            names = ", ".join(c.replace("_", " ") for c in wrong)
            known = ", ".join(sorted(SENTENCES))
            raise ValidationError(
                gettext(
                    "The headline or explanation says something these conditions do not ensure "
                    "(%(names)s). Leave it out: for the starter rules the verdict adds those "
                    "sentences itself (%(known)s) only when a run supports them."
                )
                % {"names": names, "known": known}
            )

    def as_data(self, fixes: tuple[FixLink, ...]) -> RuleData:
        """This rule as the verdict code reads it, with its ordered fix links."""
        # Starter rules carry their claims by name until rules store claims themselves.
        return RuleData(
            code=self.code,
            headline=self.headline,
            explanation=self.explanation,
            tone=self.tone,
            fixes=fixes,
            vantage=self.vantage,
            target_kind=self.target_kind,
            target=self.target.slug if self.target else "",
            probe=self.probe.strip().lower(),
            outcomes=split_tokens(self.outcomes),
            cloudflare=split_tokens(self.cloudflare_codes),
            status_states=split_tokens(self.status_states),
            visitor_answer=self.visitor_answer,
            controls_failed=self.controls_failed,
            region_scope=self.region_scope,
            service=self.service.slug if self.service else "",
            rule_id=self.pk,
            claims=STARTER_CLAIMS.get(self.name, ()),
        )


class RuleFix(models.Model):
    rule = models.ForeignKey(
        Rule, on_delete=models.CASCADE, related_name="rule_fixes", verbose_name=_("rule")
    )
    fix = models.ForeignKey(
        "helpcenter.Fix", on_delete=models.CASCADE, related_name="+", verbose_name=_("fix")
    )
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("rule fix")
        verbose_name_plural = _("rule fixes")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "fix"], name="one_fix_once_per_rule")
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.fix}"


# --- Crowd reports ("I have this problem too"; logic in diagnostics/crowd.py) ----


class CrowdReport(models.Model):
    """One visitor saying a target is failing for them, at one moment.

    Only the daily-rotated visitor hash is kept (helpcenter.clients), enough to
    refuse a second report from the same visitor within the hour and nothing
    that leads back to them.
    """

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="crowd_reports")
    visitor_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The chart, the banner and its 7-day baseline read time ranges per target.
            models.Index(fields=["target", "created_at"], name="crowd_target_time"),
            # "Has this visitor reported this target in the last hour?"
            models.Index(fields=["target", "visitor_hash", "created_at"], name="crowd_visitor"),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.created_at:%Y-%m-%d %H:%M}"


# --- State changes (detected from the beat samples; logic in diagnostics/state_changes.py) ---


class StateChange(models.Model):
    """A target's state moving from one value to another, as the beat samples showed it.

    Written only once several measured samples in a row agree (hysteresis), so a
    single flaky answer never makes an event. ``at`` is when the last of those
    samples was taken; it is unique per target and region so two workers settling
    the same round write it once.
    """

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="state_changes")
    region = models.CharField(max_length=40)
    at = models.DateTimeField()
    from_state = models.CharField(max_length=12)
    to_state = models.CharField(max_length=12)
    evidence = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["target", "region", "at"], name="one_change_per_sample")
        ]
        indexes = [models.Index(fields=["target", "region", "-at"], name="change_latest")]

    def __str__(self) -> str:
        return f"{self.target} {self.from_state} → {self.to_state} {self.at:%Y-%m-%d %H:%M}"

    @property
    def is_recovery(self) -> bool:
        return self.to_state == "ok" and self.from_state not in ("ok", "unchecked")

    @property
    def from_label(self) -> str:
        label = CHANGE_STATE_LABELS.get(self.from_state)
        return gettext(label) if label else self.from_state

    @property
    def to_label(self) -> str:
        label = CHANGE_STATE_LABELS.get(self.to_state)
        return gettext(label) if label else self.to_state

    @property
    def sentence(self) -> str:
        """One line that is true of the stored row, for pages, feeds and alerts."""
        name = self.target.name
        after = _state_word(self.to_state)
        if self.from_state == "unchecked":
            return gettext("%(name)s: first seen %(state)s") % {"name": name, "state": after}
        return gettext("%(name)s: %(before)s → %(after)s") % {
            "name": name,
            "before": _state_word(self.from_state),
            "after": after,
        }


# Coarse states a change moves between: a timeout and a refused connection are
# both "down" to a visitor, and a flip between them is not news.
CHANGE_STATE_LABELS = {
    "unchecked": gettext_noop("Not checked before"),
    "ok": gettext_noop("Up"),
    "degraded": gettext_noop("Degraded"),
    "maintenance": gettext_noop("Maintenance"),
    "blocked": gettext_noop("Turning our server away"),
    "down": gettext_noop("Down"),
    "unknown": gettext_noop("Unclear"),
}
# The same states inside a sentence ("Web app: down → up"). Their own strings, not the
# labels lowercased: lowercasing is wrong in languages that capitalise nouns.
CHANGE_STATE_WORDS = {
    "unchecked": pgettext_lazy("state change", "not checked before"),
    "ok": pgettext_lazy("state change", "up"),
    "degraded": pgettext_lazy("state change", "degraded"),
    "maintenance": pgettext_lazy("state change", "maintenance"),
    "blocked": pgettext_lazy("state change", "turning our server away"),
    "down": pgettext_lazy("state change", "down"),
    "unknown": pgettext_lazy("state change", "unclear"),
}


def _state_word(state: str) -> str:
    word = CHANGE_STATE_WORDS.get(state)
    return str(word) if word else state.lower()
