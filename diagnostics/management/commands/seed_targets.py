"""Create the starter check targets that are missing. Never overwrites an admin's edits.

Each target names its service by slug (``service``; None: shared by every
service's checks). The services themselves are starter content
(helpcenter/content/services.yml), imported before this runs; a target whose
service is missing there is skipped with a message, not created unattached.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand

from diagnostics.models import Target
from helpcenter.models import Service
from helpcenter.starter import OUTCOMES, seed_row, seed_value

STARTER_TARGETS: list[dict[str, Any]] = [
    {
        "slug": "chatgpt-web",
        "service": "chatgpt",
        "name": "ChatGPT web app",
        "url": "https://chatgpt.com/",
        "kind": Target.Kind.WEB_APP,
        "probes": ["dns", "tls", "http"],
        "expected_statuses": [200],
        # The visitor's browser checks it too: a second vantage point for the verdict.
        "browser_check": True,
        "order": 10,
    },
    {
        "slug": "openai-api",
        "service": "chatgpt",
        "name": "OpenAI API",
        "url": "https://api.openai.com/v1/models",
        # Without a key the API answers 401: that still proves it is up and reachable.
        "expected_statuses": [200, 401],
        "kind": Target.Kind.API,
        "probes": ["http"],
        "order": 20,
    },
    {
        "slug": "openai-status",
        "service": "chatgpt",
        "name": "OpenAI status page",
        "url": "https://status.openai.com/api/v2/summary.json",
        "kind": Target.Kind.STATUS_PAGE,
        "probes": ["status"],
        "provider": "statuspage",
        "order": 30,
    },
    {
        "slug": "discord-web",
        "service": "discord",
        "name": "Discord web app",
        "url": "https://discord.com/app",
        "kind": Target.Kind.WEB_APP,
        "probes": ["dns", "tls", "http"],
        "expected_statuses": [200],
        "browser_check": True,
        "order": 50,
    },
    {
        "slug": "discord-api",
        "service": "discord",
        "name": "Discord API",
        # Answers JSON without a login and changes nothing: a cheap reachability check.
        "url": "https://discord.com/api/v10/gateway",
        "kind": Target.Kind.API,
        "probes": ["http"],
        "expected_statuses": [200],
        "order": 60,
    },
    {
        "slug": "discord-status",
        "service": "discord",
        "name": "Discord status page",
        "url": "https://discordstatus.com/api/v2/summary.json",
        "kind": Target.Kind.STATUS_PAGE,
        "probes": ["status"],
        "provider": "statuspage",
        "order": 70,
    },
    {
        "slug": "cloudflare-status",
        # Every service here sits behind Cloudflare: shared by all their checks.
        "service": None,
        "name": "Cloudflare status page",
        "url": "https://www.cloudflarestatus.com/api/v3/summary",
        "kind": Target.Kind.STATUS_PAGE,
        "probes": ["status"],
        "provider": "cloudflare",
        "order": 40,
    },
    {
        "slug": "control-wikipedia",
        "service": None,
        "name": "Wikipedia (control)",
        "url": "https://www.wikipedia.org/",
        "kind": Target.Kind.CONTROL,
        "probes": ["http"],
        "expected_statuses": [200],
        "browser_check": True,
        "order": 90,
    },
    {
        "slug": "control-example",
        "service": None,
        "name": "example.com (control)",
        "url": "https://example.com/",
        "kind": Target.Kind.CONTROL,
        "probes": ["http"],
        "expected_statuses": [200],
        "browser_check": True,
        "order": 91,
    },
]


class Command(BaseCommand):
    help = "Create missing starter check targets; update those nobody edited."

    def handle(self, *args: Any, **options: Any) -> None:
        counts: Counter[str] = Counter()
        services = {service.slug: service for service in Service.objects.all()}
        for spec in STARTER_TARGETS:
            fields = {key: value for key, value in spec.items() if key not in ("slug", "service")}
            slug, wanted = spec["slug"], spec["service"]
            if wanted is not None and wanted not in services:
                self.stdout.write(f"Skipped check target {slug}: no service {wanted!r} here.")
                continue
            fresh = not Target.objects.filter(slug=slug).exists()
            outcome = seed_row(Target, "target", slug, {"slug": slug}, fields)
            if outcome == "kept":
                self.stdout.write(f"Kept your edit of check target {slug}.")
            counts[outcome] += 1
            self._attach(slug, services.get(wanted or ""), fresh=fresh)
        summary = ", ".join(f"{counts[what]} {what}" for what in OUTCOMES)
        self.stdout.write(f"Check targets: {summary}.")

    def _attach(self, slug: str, service: Service | None, *, fresh: bool) -> None:
        """The target's service, a starter value of its own (helpcenter.starter.seed_value)."""
        target = Target.objects.filter(slug=slug).select_related("service").first()
        if target is None:
            return  # deleted by an admin on purpose: seed_row kept the deletion
        current = target.service.slug if target.service else None
        wanted = service.slug if service else None
        outcome, _ = seed_value("target-service", [slug], "service", current, wanted, fresh=fresh)
        if outcome == "kept":
            self.stdout.write(f"Kept your choice of service for check target {slug}.")
        elif outcome == "updated":
            target.service = service
            target.save(update_fields=["service"])
