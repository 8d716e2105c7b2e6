"""Atom feeds of state changes: one per target, one per service and one for all.

Built only from StateChange rows (target, states, time, one line of evidence):
nothing about any visitor or subscriber.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

from diagnostics import state_changes
from diagnostics.models import StateChange, Target
from helpcenter import seo
from helpcenter.models import Service

FEED_ITEMS = 50


class StateChangeFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str | None = None) -> Target | None:
        if slug is None:
            return None
        target = Target.objects.filter(slug=slug, enabled=True).first()
        if target is None or target.kind == Target.Kind.CONTROL:
            raise Http404("No such service")
        return target

    def title(self, obj: Target | None) -> str:
        name = obj.name if obj else gettext("All services")
        title = gettext("%(name)s: state changes") % {"name": name}
        return f"{title} · {settings.SITE_NAME}"

    def subtitle(self, obj: Target | None) -> str:
        return gettext("When our server's checks saw a service go down, come back or change state.")

    def link(self, obj: Target | None) -> str:
        if obj is None:
            return seo.absolute(reverse("status_overview"))
        return seo.absolute(reverse("status_target", args=[obj.slug]))

    def feed_url(self, obj: Target | None) -> str:
        if obj is None:
            return seo.absolute(reverse("notices:feed_all"))
        return seo.absolute(reverse("notices:feed_target", args=[obj.slug]))

    def items(self, obj: Target | None) -> list[StateChange]:
        return state_changes.recent(obj, limit=FEED_ITEMS)

    def item_title(self, item: StateChange) -> str:
        return item.sentence

    def item_description(self, item: StateChange) -> str:
        return gettext("%(at)s UTC: %(evidence)s") % {
            "at": f"{item.at:%Y-%m-%d %H:%M}",
            "evidence": item.evidence,
        }

    def item_link(self, item: StateChange) -> str:
        return seo.absolute(reverse("status_target", args=[item.target.slug]))

    def item_guid(self, item: StateChange) -> str:
        return f"{seo.absolute(reverse('notices:feed_all'))}#change-{item.pk}"

    def item_guid_is_permalink(self, item: StateChange) -> bool:
        return False

    def item_pubdate(self, item: StateChange) -> datetime:
        return item.at

    def item_updateddate(self, item: StateChange) -> datetime:
        return item.at

    def item_extra_kwargs(self, item: StateChange) -> dict[str, Any]:
        return {}


class ServiceStateChangeFeed(StateChangeFeed):
    """One service's own targets (its web app, API, status page); the shared ones are apart."""

    def get_object(  # type: ignore[override]
        self, request: HttpRequest, slug: str
    ) -> Service:
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            raise Http404("No such service")
        return service

    def title(self, obj: Service) -> str:  # type: ignore[override]
        title = gettext("%(name)s: state changes") % {"name": obj.name}
        return f"{title} · {settings.SITE_NAME}"

    def link(self, obj: Service) -> str:  # type: ignore[override]
        return seo.absolute(obj.get_absolute_url())

    def feed_url(self, obj: Service) -> str:  # type: ignore[override]
        return seo.absolute(reverse("notices:feed_service", args=[obj.slug]))

    def items(self, obj: Service) -> list[StateChange]:  # type: ignore[override]
        return state_changes.recent(limit=FEED_ITEMS, service_id=obj.pk)
