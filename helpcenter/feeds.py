"""An Atom feed of new and updated guides, newest change first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy

from helpcenter import seo
from helpcenter.models import Article


class ArticleFeed(Feed):
    feed_type = Atom1Feed
    link = "/"
    subtitle = gettext_lazy("New and updated troubleshooting guides.")

    def title(self) -> str:
        return settings.SITE_NAME

    def feed_url(self) -> str:
        return seo.absolute("/feed.atom")

    def items(self) -> Any:
        return Article.objects.published().order_by("-updated_at")[:30]

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.summary

    def item_link(self, item: Article) -> str:
        return seo.absolute(item.get_absolute_url())

    def item_pubdate(self, item: Article) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime:
        return item.updated_at
