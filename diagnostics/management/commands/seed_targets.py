"""Create the starter check targets that are missing. Never overwrites an admin's edits."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand

from diagnostics.models import Target
from helpcenter.starter import OUTCOMES, seed_row

STARTER_TARGETS: list[dict[str, Any]] = [
    {
        "slug": "chatgpt-web",
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
        "name": "OpenAI status page",
        "url": "https://status.openai.com/api/v2/summary.json",
        "kind": Target.Kind.STATUS_PAGE,
        "probes": ["status"],
        "provider": "statuspage",
        "order": 30,
    },
    {
        "slug": "cloudflare-status",
        "name": "Cloudflare status page",
        "url": "https://www.cloudflarestatus.com/api/v3/summary",
        "kind": Target.Kind.STATUS_PAGE,
        "probes": ["status"],
        "provider": "cloudflare",
        "order": 40,
    },
    {
        "slug": "control-wikipedia",
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
        for spec in STARTER_TARGETS:
            fields = {key: value for key, value in spec.items() if key != "slug"}
            slug = spec["slug"]
            outcome = seed_row(Target, "target", slug, {"slug": slug}, fields)
            if outcome == "kept":
                self.stdout.write(f"Kept your edit of check target {slug}.")
            counts[outcome] += 1
        summary = ", ".join(f"{counts[what]} {what}" for what in OUTCOMES)
        self.stdout.write(f"Check targets: {summary}.")
