from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_control

from helpcenter import staff_views, views
from helpcenter.feeds import ArticleFeed
from helpcenter.sitemaps import sitemap_xml

urlpatterns = [
    path("", views.home, name="home"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("articles/<slug:slug>/", views.article_detail, name="article"),
    path("search/", views.search, name="search"),
    path("articles/<slug:slug>/fix/<slug:fix_slug>/", views.fix_detail, name="fix"),
    path("preview/<str:token>/", views.draft_preview, name="draft_preview"),
    path("articles/<slug:slug>/fix/<slug:fix_slug>/vote/", views.fix_vote, name="fix_vote"),
    path("sitemap.xml", sitemap_xml, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("media/share/<str:name>", views.share_image, name="share_image"),
    path("media/images/<str:name>", views.content_image, name="content_image"),
    path("feed.atom", cache_control(public=True, max_age=600)(ArticleFeed()), name="feed"),
    # Wired by string only: the knowledge base never imports diagnostics.
    path("checks/", include("diagnostics.urls")),
    # /status/, /status/<slug>/ and /privacy/ (the privacy page lists the check targets).
    path("", include("diagnostics.status.urls")),
    # Status feeds, "email me when it's back" and its staff counts (the notices app).
    path("", include("notices.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("staff/content-health/", staff_views.content_health, name="content_health"),
    path("styleguide/", staff_views.styleguide, name="styleguide"),
    path("admin/", admin.site.urls),
]

handler404 = "helpcenter.views.page_not_found"
handler500 = "helpcenter.views.server_error"
