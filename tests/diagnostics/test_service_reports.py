"""A report about one service says so: its name, its support, its fixes' votes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from diagnostics.models import CheckRun, Rule, RuleFix
from helpcenter.models import Article, Fix, FixFeedback, Service

pytestmark = pytest.mark.django_db

PASTED_1020 = "Error code 1020\nRay ID: 8f0c1a2b3c4d5e6f\nTimestamp: 2026-11-30 10:12:03 UTC\n"


@pytest.fixture
def services() -> dict[str, Service]:
    return {
        "chatgpt": Service.objects.create(
            slug="chatgpt", name="ChatGPT", support_url="https://help.example/chatgpt/"
        ),
        "discord": Service.objects.create(slug="discord", name="Discord", order=1),
    }


@pytest.fixture
def general_fix() -> Fix:
    guide = Article.objects.create(
        title="Error 1020", slug="any-1020", status=Article.Status.PUBLISHED,
        published_at=timezone.now(),
    )  # fmt: skip
    fix = Fix.objects.create(article=guide, slug="clear-site-cookies", title="Clear", order=1)
    rule = Rule.objects.create(
        order=1, name="1020", vantage="visitor", cloudflare_codes="1020", code="blocked-1020",
        tone="bad", headline="Blocked by Cloudflare (error 1020)",
    )  # fmt: skip
    RuleFix.objects.create(rule=rule, fix=fix, position=1)
    return fix


def _blocked_run(service: Service | None) -> CheckRun:
    run = CheckRun.objects.create(service=service, state=CheckRun.State.COMPLETE)
    run.record_answer("block_1020", PASTED_1020)
    return run


def test_the_report_names_the_service_and_sends_the_visitor_to_its_support(
    client: Client, services: dict[str, Service], general_fix: Fix
) -> None:
    run = _blocked_run(services["chatgpt"])
    html = client.get(run.get_absolute_url()).content.decode()
    assert "These checks are about ChatGPT." in html
    assert "For ChatGPT's support team" in html
    assert 'href="https://help.example/chatgpt/"' in html
    support = html.split('class="support-text"', 1)[1].split("</textarea>", 1)[0]
    assert "Service: ChatGPT" in support and "Ray ID: 8f0c1a2b3c4d5e6f" in support


def test_a_service_without_a_support_address_gets_no_link(
    client: Client, services: dict[str, Service], general_fix: Fix
) -> None:
    html = client.get(_blocked_run(services["discord"]).get_absolute_url()).content.decode()
    assert "For Discord's support team" in html
    assert "support-where" not in html


def test_a_run_about_no_service_keeps_the_plain_words(client: Client, general_fix: Fix) -> None:
    html = client.get(_blocked_run(None).get_absolute_url()).content.decode()
    assert "These checks are about" not in html
    assert "For the service's support team" in html
    assert "Service:" not in html


def test_a_general_fix_link_and_a_vote_from_the_report_keep_the_runs_service(
    client: Client, services: dict[str, Service], general_fix: Fix
) -> None:
    run = _blocked_run(services["discord"])
    html = client.get(run.get_absolute_url()).content.decode()
    assert f'href="{general_fix.get_absolute_url()}?service=discord"' in html
    answered = client.post(f"/checks/{run.id}/fixed/", {"fix": general_fix.pk, "helpful": "yes"})
    assert answered.status_code == 302
    vote = FixFeedback.objects.get()
    assert (vote.service, vote.verdict_code) == (services["discord"], "blocked-1020")


def test_the_checks_page_without_javascript_starts_on_the_service_in_its_address(
    client: Client, services: dict[str, Service]
) -> None:
    html = client.get("/checks/?service=discord").content.decode()
    assert '<option value="discord" selected>' in html
    assert '<option value="" selected>' not in html
    plain = client.get("/checks/").content.decode()
    assert '<option value="" selected>' in plain


def test_a_guide_about_one_service_says_which_it_checks(
    client: Client, services: dict[str, Service]
) -> None:
    Article.objects.create(
        title="ChatGPT 1020", slug="chatgpt-1020", status=Article.Status.PUBLISHED,
        published_at=timezone.now(), service=services["chatgpt"],
    )  # fmt: skip
    html = client.get("/checks/?article=chatgpt-1020&service=discord").content.decode()
    assert "We check ChatGPT from our server" in html and "<select" not in html
