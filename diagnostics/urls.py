from __future__ import annotations

from django.urls import path

from diagnostics import crowd_views, views
from diagnostics.status import views as status_views

app_name = "diagnostics"

urlpatterns = [
    path("", views.checks_page, name="checks"),
    path("panel/", views.panel, name="panel"),
    path("crowd/", crowd_views.crowd_reports, name="crowd"),
    path("crowd/<slug:slug>/", crowd_views.crowd_target, name="crowd_target"),
    path("live/", status_views.live_status, name="live"),
    path("live/services/", status_views.services_live, name="live_services"),
    path("<uuid:run_id>/", views.report, name="report"),
    path("<uuid:run_id>/answer/", views.answer, name="answer"),
    path("<uuid:run_id>/browser/", views.browser_findings, name="browser"),
    path("<uuid:run_id>/fixed/", views.fix_worked, name="fix_worked"),
]
