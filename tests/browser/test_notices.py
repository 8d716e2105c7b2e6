"""In Chromium with JavaScript off: "Email me when it's back" from a status page to a
confirmed subscription, the mail read from the file the embedded default writes; and the
pages pass axe-core at a phone and a desktop width."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from diagnostics.models import ProbeSample, Target
from notices.models import Subscription
from tests.browser.fixtures import screenshot
from tests.browser.test_accessibility import AXE, SERIOUS, _axe
from tests.conftest import skip_or_fail, wait_for
from tests.diagnostics.test_coalesce import unique_target

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def down(target: Target) -> None:
    ProbeSample.objects.create(
        target=target,
        region="default",
        probe="http",
        outcome="down",
        summary="connection refused",
        probed_at=timezone.now(),
    )


def mail_to(address: str) -> email.message.EmailMessage | None:
    """The message the worker wrote for ``address`` under DATA_DIR/mail/, once it is there."""
    folder = Path(settings.MAIL_FILE_PATH)
    for path in folder.glob("*.log") if folder.exists() else []:
        text = path.read_text(errors="replace")
        if address in text:
            message = email.message_from_string(text, policy=email.policy.default)
            return message  # type: ignore[return-value]
    return None


def test_a_visitor_subscribes_and_confirms_without_javascript(
    browser: Any, start_web: Any, celery_worker: Any, edge: Any
) -> None:
    target = unique_target(edge, "/ok")
    down(target)
    address = f"reader-{uuid.uuid4().hex[:8]}@example.org"
    web = start_web()
    context = browser.new_context(viewport={"width": 375, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{web.url}/status/{target.slug}/")
        page.get_by_role("link", name=f"Email me when {target.name} is back").click()
        page.get_by_label("Your email address").fill(address)
        screenshot(page, "notices-subscribe-375")
        page.get_by_role("button", name="Email me when it's back").click()
        # The answer is rendered at the form's own URL, so wait for the heading, not a URL.
        page.get_by_role("heading", name="Check your inbox").wait_for(state="visible")

        message = wait_for(lambda: mail_to(address), timeout=60)
        body = message.get_body(("plain",))
        assert body is not None
        found = re.search(r"http://testserver(/notices/confirm/[^/\s]+/)", body.get_content())
        assert found is not None
        # The mail's links start with SITE_URL (the test server's name); open the same path here.
        page.goto(f"{web.url}{found.group(1)}")
        page.get_by_role("button", name="Confirm").click()
        page.get_by_text(f"We will email you once, when our checks see {target.name}").wait_for(
            state="visible"
        )
        screenshot(page, "notices-confirmed-375")
    finally:
        context.close()
    subscription = Subscription.objects.get(email=address)
    assert subscription.confirmed_at is not None


def test_the_notice_pages_pass_axe(browser: Any, start_web: Any, edge: Any) -> None:
    if not AXE.exists():
        skip_or_fail(
            f"axe-core is not installed: run `npm install --no-save axe-core` in {AXE.parents[2]}"
        )
    target = unique_target(edge, "/ok")
    down(target)
    subscription = Subscription.objects.create(email="axe@example.org", target=target)
    web = start_web()
    source = AXE.read_text()
    problems = []
    for width in (375, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for name, path in (
            ("subscribe", f"/notices/back/{target.slug}/"),
            ("confirm", f"/notices/confirm/{subscription.token}/"),
            ("unsubscribe", f"/notices/unsubscribe/{subscription.token}/"),
            ("status", f"/status/{target.slug}/"),
        ):
            page.goto(f"{web.url}{path}")
            screenshot(page, f"notices-{name}-{width}")
            for violation in _axe(page, source):
                if violation["impact"] in SERIOUS:
                    problems.append(f"{name} at {width}px: {violation}")
        context.close()
    assert problems == []
