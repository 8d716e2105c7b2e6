from __future__ import annotations

from django.urls import path

from diagnostics import views

app_name = "diagnostics"

urlpatterns = [
    path("", views.checks_page, name="checks"),
    path("panel/", views.panel, name="panel"),
    path("<uuid:run_id>/", views.report, name="report"),
    path("<uuid:run_id>/answer/", views.answer, name="answer"),
    path("<uuid:run_id>/browser/", views.browser_findings, name="browser"),
]
