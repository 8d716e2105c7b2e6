"""Status and privacy pages, included from helpcenter/urls.py at the site root by string."""

from __future__ import annotations

from django.urls import path

from diagnostics.status import views

urlpatterns = [
    path("status/", views.status_overview, name="status_overview"),
    path("status/<slug:slug>/", views.status_target, name="status_target"),
    path("services/<slug:slug>/", views.service_page, name="service"),
    path("privacy/", views.privacy, name="privacy"),
]
