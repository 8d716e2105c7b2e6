"""The live status pages in the sitemap (helpcenter's sitemap names this class by string)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max
from django.urls import reverse

from diagnostics.models import ProbeSample, Target
from helpcenter.sitemaps import SiteSitemap

OVERVIEW = "overview"


class StatusSitemap(SiteSitemap):
    """/status/ and each enabled target's page; they change when a new sample lands."""

    def items(self) -> list[Any]:
        return [OVERVIEW, *Target.objects.filter(enabled=True).order_by("order", "name")]

    def location(self, item: Any) -> str:
        if item == OVERVIEW:
            return reverse("status_overview")
        return reverse("status_target", kwargs={"slug": item.slug})

    def lastmod(self, item: Any) -> datetime | None:
        samples = ProbeSample.objects.all()
        if item != OVERVIEW:
            samples = samples.filter(target=item)
        latest: datetime | None = samples.aggregate(latest=Max("probed_at"))["latest"]
        return latest
