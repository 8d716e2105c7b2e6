""" "Email me when it's back": double opt-in, one notice per recovery, unsubscribe, limits.

Mail goes through Django's SMTP backend to a real SMTP server on loopback
(tests/notices/conftest.py), and the tests read what it received. Tasks run
eagerly in this process through the real Celery app (the worker test is in
test_worker.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from diagnostics import state_changes
from diagnostics.models import ProbeSample, StateChange, Target
from helpcenter.celery import app
from notices import tasks
from notices.models import Subscription
from tests.diagnostics.test_coalesce import unique_target
from tests.notices.conftest import Inbox

ADDRESS = "reader@example.org"


@pytest.fixture
def eager() -> Iterator[None]:
    """Run queued tasks at once in this process, through the real Celery app."""
    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def subscribe(client: Client, target: Target, address: str = ADDRESS) -> Any:
    page = client.get(f"/notices/back/{target.slug}/")
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    return client.post(
        f"/notices/back/{target.slug}/",
        {"email": address, "csrfmiddlewaretoken": token.group(1)},
    )


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def path_of(url: str) -> str:
    assert url.startswith("http://testserver/")
    return urlsplit(url).path


def confirm_link(message: EmailMessage) -> str:
    text, html = parts(message)
    found = re.search(r"(http://testserver/notices/confirm/[^/\s]+/)", text)
    assert found is not None
    assert f'href="{found.group(1)}"' in html
    return found.group(1)


def samples(target: Target, outcomes: list[str], region: str = "default") -> None:
    """Beat samples a second apart, each newer than everything stored before."""
    latest = ProbeSample.objects.filter(target=target).order_by("-probed_at").first()
    start = max(timezone.now(), latest.probed_at if latest else timezone.now())
    for i, outcome in enumerate(outcomes, start=1):
        ProbeSample.objects.create(
            target=target,
            region=region,
            probe="http",
            outcome=outcome,
            summary=f"HTTP {200 if outcome == 'ok' else 502}",
            probed_at=start + timedelta(seconds=i),
        )


def observe(target: Target, outcomes: list[str], region: str = "default") -> StateChange | None:
    """Beat samples from ``region``, then the state-change check that follows a round."""
    samples(target, outcomes, region)
    return state_changes.detect(target, region)


def confirmed(client: Client, target: Target, inbox: Inbox, capture: Any) -> Subscription:
    with capture(execute=True):
        subscribe(client, target)
    [message] = inbox.to(ADDRESS)
    confirm = path_of(confirm_link(message))
    page = client.get(confirm)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    with capture(execute=True):
        response = client.post(confirm, {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 200
    return Subscription.objects.get(email=ADDRESS, target=target)


@pytest.mark.django_db
def test_the_form_works_without_javascript_and_sends_a_double_opt_in_mail(
    edge: Any, inbox: Inbox, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    target = unique_target(edge, "/ok")
    client = csrf_client()
    with django_capture_on_commit_callbacks(execute=True):
        response = subscribe(client, target)
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()

    [message] = inbox.to(ADDRESS)
    assert message["Subject"] == f"Confirm: email me when {target.name} is back"
    text, html = parts(message)
    assert f"send this address one email when {target.name} is back up" in text
    assert "<strong>" + target.name + "</strong>" in html
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(r"<http://testserver/notices/unsubscribe/[^>]+/>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    subscription = Subscription.objects.get(email=ADDRESS)
    assert subscription.confirmed_at is None
    # The link opens a page with a button; only the POST confirms (mail scanners GET links).
    confirm = path_of(confirm_link(message))
    page = client.get(confirm)
    assert page.status_code == 200 and "Confirm" in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(confirm, {"csrfmiddlewaretoken": token.group(1)})
    assert "We will email you once" in done.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None
    assert len(inbox.to(ADDRESS)) == 1  # not back yet: no notice


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(edge: Any) -> None:
    target = unique_target(edge, "/ok")
    response = csrf_client().post(f"/notices/back/{target.slug}/", {"email": ADDRESS})
    assert response.status_code == 403
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_a_recovery_sends_one_notice_and_deletes_the_address(
    edge: Any, inbox: Inbox, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.STATUS_CHANGE_SAMPLES = 2
    target = unique_target(edge, "/ok")
    observe(target, ["down", "down"])
    subscription = confirmed(csrf_client(), target, inbox, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        change = observe(target, ["ok", "ok"])
    assert change is not None and change.is_recovery

    notices = [m for m in inbox.to(ADDRESS) if "is back up" in str(m["Subject"])]
    assert len(notices) == 1
    notice = notices[0]
    assert notice["Subject"] == f"{target.name} is back up"
    text, html = parts(notice)
    assert f"Our server saw it working again at {change.at:%Y-%m-%d %H:%M} UTC" in text
    assert f'href="http://testserver/status/{target.slug}/"' in html
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not Subscription.objects.filter(pk=subscription.pk).exists()

    # The same task again (a redelivery) and a second recovery send nothing more.
    assert tasks.send_recovery_notice.apply((subscription.pk, change.pk)).get() is False
    observe(target, ["down", "down"])
    with django_capture_on_commit_callbacks(execute=True):
        observe(target, ["ok", "ok"])
    assert len([m for m in inbox.to(ADDRESS) if "is back up" in str(m["Subject"])]) == 1
    # The status link in the notice works.
    assert Client().get(path_of(f"http://testserver/status/{target.slug}/")).status_code == 200


@pytest.mark.django_db
def test_with_two_regions_the_notice_waits_for_the_last_one_to_see_it_back(
    edge: Any, inbox: Inbox, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.STATUS_CHANGE_SAMPLES = 1
    settings.CHECKS_REGIONS = ["east", "west"]
    target = unique_target(edge, "/ok")
    for region in ("east", "west"):
        observe(target, ["down"], region)
    confirmed(csrf_client(), target, inbox, django_capture_on_commit_callbacks)

    def notices() -> int:
        return len([m for m in inbox.to(ADDRESS) if "is back up" in str(m["Subject"])])

    with django_capture_on_commit_callbacks(execute=True):
        east = observe(target, ["ok"], "east")
    assert east is not None and east.is_recovery
    assert notices() == 0  # still down as seen from the west
    assert Subscription.objects.filter(email=ADDRESS).exists()

    with django_capture_on_commit_callbacks(execute=True):
        observe(target, ["ok"], "west")
    assert notices() == 1
    assert not Subscription.objects.filter(email=ADDRESS).exists()


@pytest.mark.django_db
def test_a_region_no_longer_named_does_not_hold_the_notice_back(
    edge: Any, inbox: Inbox, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.STATUS_CHANGE_SAMPLES = 1
    target = unique_target(edge, "/ok")
    for region in ("east", "retired"):
        observe(target, ["down"], region)
    settings.CHECKS_REGIONS = ["east"]  # the "retired" region's workers are gone
    confirmed(csrf_client(), target, inbox, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        observe(target, ["ok"], "east")
    assert [str(m["Subject"]) for m in inbox.to(ADDRESS)][-1] == f"{target.name} is back up"


@pytest.mark.django_db
def test_if_it_is_already_back_at_confirmation_the_notice_goes_at_once(
    edge: Any, inbox: Inbox, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.STATUS_CHANGE_SAMPLES = 1
    target = unique_target(edge, "/ok")
    observe(target, ["down"])
    client = csrf_client()
    with django_capture_on_commit_callbacks(execute=True):
        subscribe(client, target)
    with django_capture_on_commit_callbacks(execute=True):
        observe(target, ["ok"])  # back before the click: no one confirmed yet
    assert len(inbox.to(ADDRESS)) == 1

    confirm = path_of(confirm_link(inbox.to(ADDRESS)[0]))
    page = client.get(confirm)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(confirm, {"csrfmiddlewaretoken": token.group(1)})
    assert f"{target.name} is already back up" in done.content.decode()
    subjects = [str(m["Subject"]) for m in inbox.to(ADDRESS)]
    assert subjects[-1] == f"{target.name} is back up"
    assert not Subscription.objects.filter(email=ADDRESS).exists()


@pytest.mark.django_db
def test_one_click_unsubscribe_deletes_the_address_without_a_csrf_token(
    edge: Any, inbox: Inbox, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    target = unique_target(edge, "/ok")
    with django_capture_on_commit_callbacks(execute=True):
        subscribe(csrf_client(), target)
    [message] = inbox.to(ADDRESS)
    url = str(message["List-Unsubscribe"]).strip("<>")
    # What a mail client does for List-Unsubscribe-Post (RFC 8058): a bare POST.
    page = csrf_client().get(path_of(url))
    assert "Unsubscribe and delete my address" in page.content.decode()
    response = csrf_client().post(path_of(url), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not Subscription.objects.exists()
    # The link now says so instead of pretending.
    gone = csrf_client().get(path_of(url))
    assert gone.status_code == 404 and "no longer works" in gone.content.decode()
    # And the confirmation link does nothing any more.
    assert csrf_client().get(path_of(confirm_link(message))).status_code == 404


@pytest.mark.django_db
def test_sign_ups_are_limited_per_address(
    edge: Any, inbox: Inbox, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTICES_RATE_PER_ADDRESS = 2
    settings.NOTICES_RATE_PER_VISITOR = 100
    targets = [unique_target(edge, "/ok") for _ in range(3)]
    codes = []
    for target in targets:
        with django_capture_on_commit_callbacks(execute=True):
            codes.append(subscribe(csrf_client(), target).status_code)
    assert codes == [200, 200, 429]
    assert len(inbox.to(ADDRESS)) == 2
    assert Subscription.objects.count() == 2


@pytest.mark.django_db
def test_sign_ups_are_limited_per_visitor(
    edge: Any, inbox: Inbox, eager: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTICES_RATE_PER_VISITOR = 2
    target = unique_target(edge, "/ok")
    client = csrf_client()
    codes = []
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = subscribe(client, target, f"person{i}@example.org")
        codes.append(response.status_code)
    assert codes == [200, 200, 429]
    assert response["Retry-After"]
    assert "Too many requests" in response.content.decode()
    assert len(inbox.messages) == 2


@pytest.mark.django_db
def test_a_redelivered_confirmation_task_sends_nothing_twice(
    edge: Any, inbox: Inbox, eager: None
) -> None:
    target = unique_target(edge, "/ok")
    subscription = Subscription.objects.create(email=ADDRESS, target=target)
    assert tasks.send_confirmation.apply((subscription.pk,)).get() is True
    assert tasks.send_confirmation.apply((subscription.pk,)).get() is False
    assert len(inbox.to(ADDRESS)) == 1


@pytest.mark.django_db
def test_addresses_are_deleted_after_the_configured_days(edge: Any, settings: Any) -> None:
    settings.NOTICES_KEEP_DAYS = 30
    target = unique_target(edge, "/ok")
    now = timezone.now()
    Subscription.objects.create(
        email="old@example.org", target=target, created_at=now - timedelta(days=31)
    )
    kept = Subscription.objects.create(
        email="new@example.org", target=target, created_at=now - timedelta(days=29)
    )
    assert tasks.prune_subscriptions.apply().get() == 1
    assert list(Subscription.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db
def test_the_embedded_default_writes_mail_to_files(edge: Any, settings: Any, tmp_path: Any) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    target = unique_target(edge, "/ok")
    subscription = Subscription.objects.create(email=ADDRESS, target=target)
    tasks.send_confirmation.apply((subscription.pk,))
    [written] = list(tmp_path.iterdir())
    content = written.read_text()
    assert f"Subject: Confirm: email me when {target.name} is back" in content
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in content


def test_serve_says_where_mail_goes(settings: Any) -> None:
    from helpcenter.management.commands.serve import mail_line

    # What settings.py chooses with EMAIL_HOST unset (the test run swaps in its own mailer).
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(settings.MAIL_FILE_PATH)},
        }
    }
    assert mail_line() == (
        f"Mail is not sent: each message is written to a file in {settings.MAIL_FILE_PATH}/ "
        "(set EMAIL_HOST to send it)."
    )
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "smtp.example.org", "port": 587},
        }
    }
    assert mail_line() == "Mail is sent through SMTP at smtp.example.org:587."


def test_unchanged_state_is_not_a_recovery() -> None:
    change = StateChange(from_state="unchecked", to_state="ok")
    assert not change.is_recovery
    assert StateChange(from_state="down", to_state="ok").is_recovery


@pytest.mark.django_db
def test_a_notice_claimed_by_a_dead_worker_is_sent_later_but_a_live_claim_is_not(
    edge: Any, inbox: Inbox
) -> None:
    target = unique_target(edge, "/ok")
    now = timezone.now()
    live = Subscription.objects.create(
        email="live@example.org", target=target, confirmed_at=now, notice_claimed_at=now
    )
    dead = Subscription.objects.create(
        email="dead@example.org",
        target=target,
        confirmed_at=now,
        notice_claimed_at=now - timedelta(seconds=tasks.STALE_CLAIM_SECONDS + 5),
    )
    assert tasks.send_recovery_notice.apply((live.pk,)).get() is False
    assert tasks.send_recovery_notice.apply((dead.pk,)).get() is True
    assert [str(m["To"]) for m in inbox.messages] == ["dead@example.org"]
