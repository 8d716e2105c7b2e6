"""Recovery subscriptions and operator webhooks.

A subscription is the only place this site keeps an email address. It lives
until its one notice is sent or NOTICES_KEEP_DAYS pass, whichever is first;
the row is then deleted, not blanked.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnostics.models import Target


def _token() -> str:
    return secrets.token_urlsafe(32)


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def waiting(self) -> SubscriptionQuerySet:
        """Confirmed and not yet noticed: the ones a recovery notifies.

        A claimed one is left out: its task is sending, or retrying a failed send.
        """
        return self.filter(confirmed_at__isnull=False, notice_claimed_at__isnull=True)

    def expired(self, now: datetime | None = None) -> SubscriptionQuerySet:
        cutoff = (now or timezone.now()) - timedelta(days=settings.NOTICES_KEEP_DAYS)
        return self.filter(created_at__lt=cutoff)


class Subscription(models.Model):
    """ "Email me when it's back" for one target: an address waiting for one notice."""

    email = models.EmailField(max_length=254, verbose_name=_("email"))
    target = models.ForeignKey(
        Target,
        on_delete=models.CASCADE,
        related_name="notices_subscriptions",
        verbose_name=_("target"),
    )
    # Proves the link in a mail came from us; it confirms and unsubscribes.
    token = models.CharField(
        max_length=64, unique=True, default=_token, editable=False, verbose_name=_("token")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    # Set by the task that sends the mail, before it sends: a redelivered task
    # finds it set and sends nothing (unless the claim is so old that the worker
    # holding it must have died; see notices.tasks.STALE_CLAIM_SECONDS).
    confirmation_claimed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("confirmation claimed at")
    )
    confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("confirmation sent at")
    )
    notice_claimed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("notice claimed at")
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["email", "target"], name="one_subscription_per_target")
        ]

    def __str__(self) -> str:
        return f"Subscription {self.pk} to {self.target}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Webhook(models.Model):
    """An operator's URL, called on state changes and crowd-report surges."""

    class Kind(models.TextChoices):
        SLACK = "slack", _('Slack-compatible ({"text": …})')
        GENERIC = "generic", _("Generic JSON")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    url = models.URLField(max_length=500, verbose_name=_("url"))
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.GENERIC, verbose_name=_("kind")
    )
    secret = models.CharField(
        max_length=100,
        default=_token,
        help_text=_(
            "Signs each body: X-Helpcenter-Signature is sha256= and the hex HMAC-SHA256 "
            "of the body with this secret."
        ),
        verbose_name=_("secret"),
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    on_state_change = models.BooleanField(default=True, verbose_name=_("on state change"))
    on_crowd_surge = models.BooleanField(default=True, verbose_name=_("on crowd surge"))

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one webhook: what was sent, how often, and how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Failed; will try again")
        FAILED = "failed", _("Failed; gave up")

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    # One delivery per event and webhook: an event announced twice is sent once.
    event_key = models.CharField(max_length=120, verbose_name=_("event key"))
    body = models.TextField(verbose_name=_("body"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    last_error = models.CharField(max_length=300, blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("webhook delivery")
        ordering = ["-created_at"]
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_key"], name="one_delivery_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.webhook} {self.event_key} {self.status}"
