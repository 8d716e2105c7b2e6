"""The live status pages in the sitemap (helpcenter's sitemap names this class by string)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max
from django.urls import reverse

from diagnostics.models import ProbeSample, Target
from helpcenter.models import Service
from helpcenter.sitemaps import SiteSitemap

OVERVIEW = "overview"


class StatusSitemap(SiteSitemap):
    """/status/, each service's page and each enabled target's page.

    They change when a new sample lands (of the service's own targets, for a service).
    """

    def items(self) -> list[Any]:
        targets = Target.objects.filter(enabled=True).order_by("order", "name")
        return [OVERVIEW, *Service.objects.all(), *targets]

    def location(self, item: Any) -> str:
        if item == OVERVIEW:
            return reverse("status_overview")
        if isinstance(item, Service):
            return item.get_absolute_url()
        return reverse("status_target", kwargs={"slug": item.slug})

    def lastmod(self, item: Any) -> datetime | None:
        samples = ProbeSample.objects.all()
        if isinstance(item, Service):
            samples = samples.filter(target__service=item, target__enabled=True)
        elif item != OVERVIEW:
            samples = samples.filter(target=item)
        latest: datetime | None = samples.aggregate(latest=Max("probed_at"))["latest"]
        return latest
