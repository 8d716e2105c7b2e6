"""Operator webhooks: signed Slack-style and generic bodies, retries, the address guard.

A real HTTP server on loopback stands in for the operator's endpoint
(tests/notices/conftest.py). Tasks run in this process through the real Celery
app; test_worker.py runs them on a real worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from diagnostics import crowd, state_changes
from diagnostics.models import ProbeSample, Target
from helpcenter.celery import app
from notices import tasks
from notices.models import Webhook, WebhookDelivery
from tests.diagnostics.test_coalesce import unique_target
from tests.notices.conftest import Hook


@pytest.fixture
def eager() -> Iterator[None]:
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


def went_down(target: Target, settings: Any, capture: Any) -> None:
    settings.STATUS_CHANGE_SAMPLES = 1
    ProbeSample.objects.create(
        target=target,
        region="default",
        probe="http",
        outcome="down",
        summary="connection refused",
        probed_at=timezone.now(),
    )
    with capture(execute=True):
        assert state_changes.detect(target, "default") is not None


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.django_db
def test_a_state_change_calls_both_kinds_signed(
    edge: Any, hook: Hook, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    generic = Webhook.objects.create(name="ops", url=hook.url, kind=Webhook.Kind.GENERIC)
    slack = Webhook.objects.create(name="chat", url=hook.url + "?slack", kind=Webhook.Kind.SLACK)
    target = unique_target(edge, "/ok")
    went_down(target, settings, django_capture_on_commit_callbacks)

    received = hook.received()
    assert len(received) == 2
    by_kind = {}
    for headers, body in received:
        data = json.loads(body)
        by_kind["slack" if "text" in data and len(data) == 1 else "generic"] = (headers, body)
    headers, body = by_kind["generic"]
    data = json.loads(body)
    assert data["event"] == "state_change"
    assert (data["from"], data["to"]) == ("unchecked", "down")
    assert data["target"] == {"slug": target.slug, "name": target.name}
    assert data["evidence"] == "1 check in a row from default (http): connection refused"
    assert data["url"] == f"http://testserver/status/{target.slug}/"
    assert headers["x-helpcenter-signature"] == signed(generic.secret, body)
    assert headers["content-type"] == "application/json"

    headers, body = by_kind["slack"]
    text = json.loads(body)["text"]
    assert text.startswith(f"{target.name}: first seen down at ")
    assert headers["x-helpcenter-signature"] == signed(slack.secret, body)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_an_event_announced_twice_is_delivered_once(
    edge: Any, hook: Hook, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    Webhook.objects.create(name="ops", url=hook.url)
    target = unique_target(edge, "/ok")
    went_down(target, settings, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert tasks.deliver_webhook.apply((delivery.pk,)).get() is False  # a redelivery
    assert len(hook.received()) == 1


@pytest.mark.django_db
def test_a_failing_endpoint_is_retried_then_the_failure_shows_in_the_admin(
    edge: Any, hook: Hook, client: Any, settings: Any
) -> None:
    hook.answers = [500]
    webhook = Webhook.objects.create(name="ops", url=hook.url)
    target = unique_target(edge, "/ok")
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event_key=f"test:{target.slug}", body='{"event": "test"}'
    )
    tasks.deliver_webhook.apply((delivery.pk,))
    delivery.refresh_from_db()
    # Each retry ran (eagerly, one after another) and each reached the endpoint.
    assert len(hook.received()) == tasks.WEBHOOK_RETRIES + 1
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == tasks.WEBHOOK_RETRIES + 1
    assert delivery.last_error == "the webhook answered HTTP 500"

    User.objects.create_superuser("root", password="a-long-test-password")
    client.login(username="root", password="a-long-test-password")
    page = client.get("/admin/notices/webhookdelivery/").content.decode()
    assert "the webhook answered HTTP 500" in page and "Failed; gave up" in page
    listing = client.get("/admin/notices/webhook/").content.decode()
    assert "Failed deliveries" in listing


@pytest.mark.django_db
def test_a_retry_that_succeeds_ends_sent(edge: Any, hook: Hook) -> None:
    hook.answers = [503, 200]
    webhook = Webhook.objects.create(name="ops", url=hook.url)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event_key="x", body="{}")
    tasks.deliver_webhook.apply((delivery.pk,))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SENT and delivery.attempts == 2
    assert len(hook.received()) == 2


@pytest.mark.django_db
def test_private_addresses_are_refused_unless_the_setting_allows_them(
    edge: Any, hook: Hook, settings: Any
) -> None:
    settings.PROBES_ALLOW_LOOPBACK = False
    webhook = Webhook.objects.create(name="ops", url=hook.url)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event_key="x", body="{}")
    tasks.deliver_webhook.apply((delivery.pk,))
    delivery.refresh_from_db()
    assert hook.received() == []
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "not allowed" in delivery.last_error and "loopback" in delivery.last_error


@pytest.mark.django_db
def test_a_crowd_report_surge_calls_the_webhook_once(
    edge: Any, hook: Hook, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CROWD_MIN_REPORTS = 2
    Webhook.objects.create(name="ops", url=hook.url, on_state_change=False)
    target = unique_target(edge, "/ok")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            crowd.record(target, f"visitor-{i}", now + timedelta(seconds=i))
    # The third report crossed the line; later ones did not.
    [(_headers, body)] = hook.received()
    data = json.loads(body)
    assert data["event"] == "crowd_surge" and data["reports"] == 3
    assert data["target"]["slug"] == target.slug
    assert "visitor" not in body.decode()


@pytest.mark.django_db
def test_disabled_or_unsubscribed_webhooks_are_not_called(
    edge: Any, hook: Hook, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    Webhook.objects.create(name="off", url=hook.url, enabled=False)
    Webhook.objects.create(name="surges only", url=hook.url, on_state_change=False)
    target = unique_target(edge, "/ok")
    went_down(target, settings, django_capture_on_commit_callbacks)
    assert hook.received() == []


@pytest.mark.django_db
def test_a_delivery_abandoned_by_a_dead_worker_is_sent_but_a_live_claim_is_left_alone(
    edge: Any, hook: Hook
) -> None:
    webhook = Webhook.objects.create(name="ops", url=hook.url)
    stale = timezone.now() - timedelta(seconds=tasks.STALE_CLAIM_SECONDS + 5)
    live = WebhookDelivery.objects.create(
        webhook=webhook, event_key="live", body="{}", status="sending", claimed_at=timezone.now()
    )
    dead = WebhookDelivery.objects.create(
        webhook=webhook, event_key="dead", body="{}", status="sending", claimed_at=stale
    )
    assert tasks.deliver_webhook.apply((live.pk,)).get() is False
    assert tasks.deliver_webhook.apply((dead.pk,)).get() is True
    assert len(hook.received()) == 1
    dead.refresh_from_db()
    assert dead.status == WebhookDelivery.Status.SENT
