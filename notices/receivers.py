"""Diagnostics' events turned into queued work: webhook deliveries and recovery notices.

Runs where the event was stored (a worker settling a round, a web request
taking a crowd report) and only writes rows and queues tasks: nothing leaves
the machine here.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse

from diagnostics.models import StateChange, Target
from helpcenter import seo
from notices import tasks
from notices.models import Webhook, WebhookDelivery


def on_state_change(sender: Any, change: StateChange, **kwargs: Any) -> None:
    target = change.target
    link = seo.absolute(reverse("status_target", args=[target.slug]))
    generic = {
        "event": "state_change",
        "id": f"change:{change.pk}",
        "target": {"slug": target.slug, "name": target.name},
        "from": change.from_state,
        "to": change.to_state,
        "at": change.at.isoformat(),
        "region": change.region,
        "evidence": change.evidence,
        "url": link,
    }
    text = f"{change.sentence} at {change.at:%Y-%m-%d %H:%M} UTC. {change.evidence} <{link}>"
    queue_deliveries(Webhook.objects.filter(on_state_change=True), generic, text)
    if change.is_recovery:
        transaction.on_commit(lambda: tasks.notify_recovery.delay(change.pk))


def on_crowd_surge(sender: Any, target: Target, surge: Any, at: datetime, **kwargs: Any) -> None:
    window = surge.minutes * 60
    link = seo.absolute(reverse("status_target", args=[target.slug]))
    generic = {
        "event": "crowd_surge",
        # One event per surge window however many reports cross the line in it.
        "id": f"surge:{target.slug}:{int(at.timestamp()) // window}",
        "target": {"slug": target.slug, "name": target.name},
        "reports": surge.recent,
        "minutes": surge.minutes,
        "usual_per_hour": surge.usual_per_hour,
        "at": at.isoformat(),
        "url": link,
    }
    text = (
        f"{target.name}: {surge.recent} visitors reported a problem in the last "
        f"{surge.minutes} minutes (usually {surge.usual_per_hour:g} an hour). <{link}>"
    )
    queue_deliveries(Webhook.objects.filter(on_crowd_surge=True), generic, text)


def queue_deliveries(webhooks: Any, generic: dict[str, Any], text: str) -> list[int]:
    """Store one delivery per enabled webhook for this event and queue each once."""
    queued = []
    for webhook in webhooks.filter(enabled=True):
        body = {"text": text} if webhook.kind == Webhook.Kind.SLACK else generic
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    webhook=webhook,
                    event_key=str(generic["id"]),
                    body=json.dumps(body, sort_keys=True),
                )
        except IntegrityError:
            continue  # this event was announced before: its delivery exists already
        queued.append(delivery.pk)
    if queued:
        transaction.on_commit(lambda: [tasks.deliver_webhook.delay(pk) for pk in queued])
    return queued
