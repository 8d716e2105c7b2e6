"""Everything this app sends leaves from here, in Celery, never in a request.

Each task claims its work in the database before sending (an UPDATE that only
one caller can win), so a redelivered or duplicated task finds the claim and
sends nothing twice. A send that fails gives the claim back and retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from diagnostics.models import StateChange
from diagnostics.probes.safety import AddressPolicy
from notices import mail, recovery
from notices.models import Subscription, WebhookDelivery

if TYPE_CHECKING:
    from diagnostics.probes.http import HttpConfig

log = logging.getLogger(__name__)

MAIL_RETRY: dict[str, Any] = {"max_retries": 5, "default_retry_delay": 30}
# A claim this old belongs to a worker that died mid-send (a send is bounded by the
# SMTP and webhook timeouts, far below this); on Redis its message comes back after
# the visibility timeout (300 s), so this must stay below that for it to be retried.
STALE_CLAIM_SECONDS = 120
WEBHOOK_RETRIES = 5
SIGNATURE_HEADER = "X-Helpcenter-Signature"


@shared_task(bind=True, acks_late=True, **MAIL_RETRY)
def send_confirmation(self: Any, subscription_id: int) -> bool:
    """Send the double opt-in mail once; True when this call sent it."""
    now = timezone.now()
    claimed = (
        Subscription.objects.filter(
            pk=subscription_id, confirmation_sent_at__isnull=True, confirmed_at__isnull=True
        )
        .filter(_free("confirmation_claimed_at", now))
        .update(confirmation_claimed_at=now)
    )
    if not claimed:
        return False
    subscription = Subscription.objects.select_related("target").get(pk=subscription_id)
    try:
        mail.confirmation(subscription).send()
    except OSError as exc:
        Subscription.objects.filter(pk=subscription_id).update(confirmation_claimed_at=None)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    Subscription.objects.filter(pk=subscription_id).update(confirmation_sent_at=timezone.now())
    return True


def _free(field: str, now: datetime) -> Q:
    """Unclaimed, or claimed so long ago that the claiming worker must have died."""
    stale = now - timedelta(seconds=STALE_CLAIM_SECONDS)
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": stale})


@shared_task(bind=True, acks_late=True, **MAIL_RETRY)
def send_recovery_notice(self: Any, subscription_id: int, change_id: int | None = None) -> bool:
    """Send the one notice, then delete the address; True when this call sent it."""
    now = timezone.now()
    claimed = (
        Subscription.objects.filter(pk=subscription_id, confirmed_at__isnull=False)
        .filter(_free("notice_claimed_at", now))
        .update(notice_claimed_at=now)
    )
    if not claimed:
        return False  # sent already, unsubscribed, or not confirmed
    subscription = Subscription.objects.select_related("target").get(pk=subscription_id)
    change = StateChange.objects.filter(pk=change_id).first() if change_id else None
    try:
        mail.recovery_notice(subscription, change).send()
    except OSError as exc:
        Subscription.objects.filter(pk=subscription_id).update(notice_claimed_at=None)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    # What the privacy page promises: the address goes once its notice is out.
    subscription.delete()
    return True


@shared_task(ignore_result=True)
def notify_recovery(change_id: int) -> int:
    """Queue one notice per confirmed subscription to the target that just came back."""
    change = StateChange.objects.filter(pk=change_id).first()
    if change is None or not change.is_recovery:
        return 0
    if recovery.back_everywhere(change.target) is None:
        return 0  # back in this region only: the last region to recover sends the notices
    ids = list(
        Subscription.objects.waiting()
        .filter(target_id=change.target_id)
        .values_list("pk", flat=True)
    )
    for subscription_id in ids:
        send_recovery_notice.delay(subscription_id, change_id)
    return len(ids)


@shared_task(ignore_result=True)
def prune_subscriptions() -> int:
    """Hourly: delete addresses older than NOTICES_KEEP_DAYS, confirmed or not."""
    deleted, _ = Subscription.objects.expired().delete()
    return deleted


def _backoff(retries: int) -> float:
    """Seconds before retry number ``retries`` + 1: doubling, capped at ten minutes."""
    return float(min(600.0, settings.NOTICES_RETRY_SECONDS * 2**retries))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_config() -> HttpConfig:
    # Imported here, not at the top: web workers import this module to queue tasks,
    # and httpx (with the rich and click it loads) would stay in each one's memory
    # (tests/helpcenter/test_startup_imports.py). Only the Celery worker sends.
    from diagnostics.probes.http import HttpConfig

    timeout = settings.WEBHOOK_TIMEOUT
    return HttpConfig(
        timeout=timeout,
        deadline=timeout * 2,
        user_agent=settings.PROBE_USER_AGENT,
        policy=AddressPolicy(
            allow_loopback=settings.PROBES_ALLOW_LOOPBACK,
            allow_private=settings.PROBES_ALLOW_PRIVATE,
        ),
        local_address=settings.PROBE_SOURCE_ADDRESS or None,
        nameservers=settings.PROBE_NAMESERVERS,
    )


@shared_task(bind=True, acks_late=True, max_retries=WEBHOOK_RETRIES)
def deliver_webhook(self: Any, delivery_id: int) -> bool:
    """POST one delivery's body, signed; retry with back-off; True when this call sent it."""
    from diagnostics.probes.http import ProbeFailure, post  # see webhook_config

    now = timezone.now()
    waiting = Q(status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING])
    abandoned = Q(status=WebhookDelivery.Status.SENDING) & _free("claimed_at", now)
    claimed = WebhookDelivery.objects.filter(waiting | abandoned, pk=delivery_id).update(
        status=WebhookDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False  # sent, given up, or another worker is sending it now
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    body = delivery.body.encode()
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER.lower(): sign(delivery.webhook.secret, body),
        "x-helpcenter-event": delivery.event_key,
    }
    error = ""
    try:
        status = asyncio.run(post(delivery.webhook.url, body, headers, webhook_config()))
        if not 200 <= status < 300:
            error = f"the webhook answered HTTP {status}"
    except ProbeFailure as exc:
        error = str(exc) or type(exc).__name__
    if not error:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDelivery.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        return True
    final = self.request.retries >= WEBHOOK_RETRIES
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.RETRYING,
        last_error=error[:300],
    )
    log.warning("webhook delivery %s failed: %s", delivery_id, error)
    if final:
        return False
    raise self.retry(countdown=_backoff(self.request.retries))
