"""Status and privacy pages, included from helpcenter/urls.py at the site root by string."""

from __future__ import annotations

from django.urls import path

from diagnostics import status_pages

urlpatterns = [
    path("status/", status_pages.status_overview, name="status_overview"),
    path("status/<slug:slug>/", status_pages.status_target, name="status_target"),
    path("privacy/", status_pages.privacy, name="privacy"),
]
