from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from helpcenter import views

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<slug:slug>/", views.article_detail, name="article"),
    # Wired by string only: the knowledge base never imports diagnostics.
    path("checks/", include("diagnostics.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
