"""The status pages in /sitemap.xml, dated by the newest sample each one shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.conf import settings

from tests.diagnostics.test_status_pages import make_target, sample

pytestmark = pytest.mark.django_db

SITE = settings.SITE_URL.rstrip("/")
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _lastmods(client: Any) -> dict[str, str | None]:
    root = ElementTree.fromstring(client.get("/sitemap.xml").content)
    return {
        url.findtext("s:loc", namespaces=NS) or "": url.findtext("s:lastmod", namespaces=NS)
        for url in root.findall("s:url", NS)
    }


def test_each_enabled_target_s_status_page_is_listed_with_its_newest_sample(client: Any) -> None:
    fresh = make_target(slug="fresh")
    quiet = make_target(slug="quiet")
    make_target(slug="retired", enabled=False)
    sample(fresh, ago=timedelta(hours=3))
    newest = sample(fresh, ago=timedelta(minutes=5))
    entries = _lastmods(client)

    stamp = datetime.fromisoformat(entries[f"{SITE}/status/fresh/"] or "")
    assert stamp == newest.probed_at
    assert datetime.fromisoformat(entries[f"{SITE}/status/"] or "") == newest.probed_at
    # Never sampled: no date rather than an invented one.
    assert entries[f"{SITE}/status/{quiet.slug}/"] is None
    assert f"{SITE}/status/retired/" not in entries
