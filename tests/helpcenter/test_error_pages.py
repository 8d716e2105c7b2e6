"""The site's own error pages (the 404 is in test_pages.py and test_commands.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from helpcenter import urls as site_urls


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


# This module doubles as the URLconf: the site's, plus a view that fails.
urlpatterns = [path("fail/", fail), *site_urls.urlpatterns]
handler404 = site_urls.handler404
handler500 = site_urls.handler500


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_failing_view_shows_the_sites_500_page_with_its_search_box(client: Any) -> None:
    client.raise_request_exception = False
    response = client.get("/fail/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert f"<title>Something went wrong · {settings.SITE_NAME}</title>" in html
    assert 'id="error-q" type="search" name="q"' in html
    assert 'class="site-header"' in html  # the site's look, not a bare error
