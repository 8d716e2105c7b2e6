"""Included at the site root by string from helpcenter/urls.py."""

from __future__ import annotations

from django.urls import path
from django.views.decorators.cache import cache_control

from notices import views
from notices.feeds import ServiceStateChangeFeed, StateChangeFeed

app_name = "notices"

feed = cache_control(public=True, max_age=60)(StateChangeFeed())
service_feed = cache_control(public=True, max_age=60)(ServiceStateChangeFeed())

urlpatterns = [
    path("status/changes.atom", feed, name="feed_all"),
    path("status/<slug:slug>/changes.atom", feed, name="feed_target"),
    path("services/<slug:slug>/changes.atom", service_feed, name="feed_service"),
    path("notices/back/<slug:slug>/", views.subscribe, name="subscribe"),
    path("notices/confirm/<str:token>/", views.confirm, name="confirm"),
    path("notices/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("staff/notices/", views.subscription_counts, name="counts"),
]
