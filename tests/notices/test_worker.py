"""On a real Celery worker: a task delivered twice sends its mail or webhook once.

The worker is this module's own, on a queue of its own, so it can be pointed
at the loopback SMTP server through the environment as production would be
(EMAIL_HOST, EMAIL_PORT) without disturbing the session's shared worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from notices import tasks
from notices.models import Subscription, Webhook, WebhookDelivery
from tests.conftest import WorkerProcess, subprocess_env, wait_for
from tests.diagnostics.test_coalesce import unique_target
from tests.notices.conftest import Hook, Inbox

QUEUE = "notices-test"
ADDRESS = "twice@example.org"


@pytest.fixture(scope="module")
def notices_worker(clean_broker: None, smtp_server: Any) -> Iterator[WorkerProcess]:
    controller, _ = smtp_server
    env = subprocess_env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(controller.port))
    worker = WorkerProcess(QUEUE, env, name="notices")
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def outcomes(worker: WorkerProcess, task_ids: list[str]) -> list[str]:
    """What each task returned, from the worker's log, once every one has finished."""

    def finished() -> list[str] | None:
        found = []
        for task_id in task_ids:
            pattern = re.compile(rf"\[{re.escape(task_id)}\] succeeded in [0-9.]+s: (\w+)")
            match = next((m for line in worker.lines if (m := pattern.search(line))), None)
            if match is None:
                return None
            found.append(match.group(1))
        return found

    return wait_for(finished, timeout=60)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redelivered_notice_task_sends_one_mail(
    notices_worker: WorkerProcess, smtp_server: tuple[Any, Inbox], edge: Any
) -> None:
    _, inbox = smtp_server
    target = unique_target(edge, "/ok")
    subscription = Subscription.objects.create(
        email=ADDRESS, target=target, confirmed_at=timezone.now()
    )
    sent = [
        tasks.send_recovery_notice.apply_async((subscription.pk, None), queue=QUEUE).id
        for _ in range(2)
    ]
    assert sorted(outcomes(notices_worker, sent)) == ["False", "True"]
    notices = [m for m in inbox.to(ADDRESS) if str(m["Subject"]) == f"{target.name} is back up"]
    assert len(notices) == 1
    assert not Subscription.objects.filter(pk=subscription.pk).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redelivered_webhook_task_posts_once(
    notices_worker: WorkerProcess, hook: Hook, edge: Any
) -> None:
    assert settings.PROBES_ALLOW_LOOPBACK  # the worker may reach the loopback endpoint
    webhook = Webhook.objects.create(name="ops", url=hook.url)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event_key="twice", body="{}")
    sent = [tasks.deliver_webhook.apply_async((delivery.pk,), queue=QUEUE).id for _ in range(2)]
    assert sorted(outcomes(notices_worker, sent)) == ["False", "True"]
    assert len(hook.received()) == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SENT and delivery.attempts == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_failing_webhook_until_it_answers(
    notices_worker: WorkerProcess, hook: Hook
) -> None:
    hook.answers = [500, 502, 200]
    webhook = Webhook.objects.create(name="ops", url=hook.url)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event_key="retry", body="{}")
    tasks.deliver_webhook.apply_async((delivery.pk,), queue=QUEUE)

    def sent() -> bool:
        delivery.refresh_from_db()
        return delivery.status == WebhookDelivery.Status.SENT

    wait_for(sent, timeout=60)
    assert delivery.attempts == 3 and len(hook.received()) == 3
