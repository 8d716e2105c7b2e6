"""Several services on one help center: each run checks one service and the shared targets.

A second service (Discord here, with its own stand-in targets on the loopback
edge server) must never mix into ChatGPT's checks, verdicts or fix links.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from diagnostics.models import CheckRun, Rule, RuleFix, Target
from diagnostics.runs import create_run, plan_run
from diagnostics.verdict import FixLink, fixes_for
from helpcenter.models import Article, Fix, Service
from tests.conftest import wait_for

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def services(db: None) -> dict[str, Service]:
    return {
        slug: Service.objects.create(slug=slug, name=name, order=order)
        for order, (slug, name) in enumerate((("chatgpt", "ChatGPT"), ("discord", "Discord")))
    }


def _target(edge: Any, path: str, service: Service | None, **fields: Any) -> Target:
    tag = uuid.uuid4().hex[:8]
    defaults = {
        "name": f"{service.name if service else 'Control'} {tag}",
        "slug": f"t-{tag}",
        "probes": ["http"],
        "expected_statuses": [200],
    }
    return Target.objects.create(
        url=edge.url(f"{path}?t={tag}"), service=service, **{**defaults, **fields}
    )


def _guide(slug: str, service: Service | None) -> Article:
    return Article.objects.create(
        title=f"Guide {slug}",
        slug=slug,
        body="## What it means {#what-it-means}\n\nText.",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now(),
        service=service,
    )


# --- Which targets a run probes ---------------------------------------------------


@pytest.mark.django_db
def test_a_run_plans_only_its_services_targets_and_the_shared_ones(
    edge: Any, services: dict[str, Service]
) -> None:
    chatgpt = _target(edge, "/ok", services["chatgpt"])
    discord = _target(edge, "/ok", services["discord"])
    control = _target(edge, "/ok", None, kind=Target.Kind.CONTROL)

    for service, own, other in (("chatgpt", chatgpt, discord), ("discord", discord, chatgpt)):
        planned = {job.target_id for job in plan_run(services[service].pk).jobs}
        assert planned == {own.pk, control.pk}, service
        assert other.pk not in planned


@pytest.mark.django_db
def test_a_run_remembers_its_service_and_waits_only_for_its_targets(
    edge: Any, services: dict[str, Service]
) -> None:
    _target(edge, "/ok", services["chatgpt"])
    _target(edge, "/ok", services["discord"])
    new = create_run("", service_id=services["discord"].pk)
    run = CheckRun.objects.get(pk=new.run.pk)
    assert run.service == services["discord"]
    assert run.expected_results == 1
    assert run.waiting_for([]) == [t.name for t in Target.objects.filter(service__slug="discord")]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_services_checked_through_the_worker_never_mix(
    client: Client, edge: Any, celery_worker: Any
) -> None:
    chatgpt = Service.objects.create(slug="chatgpt", name="ChatGPT")
    discord = Service.objects.create(slug="discord", name="Discord", order=1)
    ok = _target(edge, "/ok", chatgpt)
    blocked = _target(edge, "/block/1020", discord)
    control = _target(edge, "/ok", None, kind=Target.Kind.CONTROL)
    Rule.objects.create(
        order=1,
        name="Blocked",
        vantage="server",
        outcomes="blocked",
        code="blocked",
        headline="Our server was refused.",
    )

    for service in (chatgpt, discord):
        response = client.post("/checks/", {"service": service.slug})
        assert response.status_code == 302
    runs = {run.service.slug: run for run in CheckRun.objects.select_related("service")}
    for run in runs.values():
        wait_for(lambda r=run: CheckRun.objects.get(pk=r.pk).state == CheckRun.State.COMPLETE)

    seen = {
        slug: set(run.results.values_list("target__slug", "outcome")) for slug, run in runs.items()
    }
    assert seen["chatgpt"] == {(ok.slug, "ok"), (control.slug, "ok")}
    assert seen["discord"] == {(blocked.slug, "blocked"), (control.slug, "ok")}
    verdicts = {slug: run.verdict() for slug, run in runs.items()}
    assert (verdicts["chatgpt"].code, verdicts["discord"].code) == ("all-clear", "blocked")


# --- Rules and fix links per service ---------------------------------------------


def test_a_rules_fix_links_prefer_the_services_own_guide() -> None:
    """A rule links the same advice from a service's own guide and from the general guide,
    not always under the same slugs: a service gets its own list, else the general one."""
    own = FixLink("clear-site-cookies", "Clear cookies", "/a/", 1, service="chatgpt")
    own_status = FixLink("check-status-page", "OpenAI status", "/a2/", 5, service="chatgpt")
    general = FixLink("clear-site-cookies", "Clear cookies", "/g/", 2)
    general_status = FixLink("check-service-status-page", "Status", "/g2/", 3)
    other = FixLink("check-status", "Status", "/d/", 4, service="discord")
    links = [own, own_status, general, general_status, other]

    assert fixes_for(links, "chatgpt") == (own, own_status)
    assert fixes_for(links, "discord") == (other,)
    assert fixes_for(links, "steam") == (general, general_status)
    # An install without services: every fix once, the first the rule links.
    assert fixes_for(links, "") == (own, own_status, general_status, other)


@pytest.mark.django_db
def test_a_rule_with_a_service_condition_answers_only_that_services_runs(
    services: dict[str, Service],
) -> None:
    Rule.objects.create(
        order=1,
        name="Discord only",
        code="discord-only",
        headline="Only Discord.",
        service=services["discord"],
    )
    Rule.objects.create(order=2, name="Anyone", code="anyone", headline="Anyone.")
    codes = {}
    for slug, service in services.items():
        run = CheckRun.objects.create(service=service, state=CheckRun.State.COMPLETE)
        codes[slug] = run.verdict([]).code
    assert codes == {"chatgpt": "anyone", "discord": "discord-only"}


@pytest.mark.django_db
def test_the_verdict_links_the_general_guide_for_a_service_without_its_own(
    services: dict[str, Service],
) -> None:
    own_guide = _guide("chatgpt-1020", services["chatgpt"])
    general_guide = _guide("any-1020", None)
    own = Fix.objects.create(article=own_guide, slug="clear-site-cookies", title="Own", order=1)
    general = Fix.objects.create(
        article=general_guide, slug="clear-site-cookies", title="General", order=1
    )
    rule = Rule.objects.create(order=1, name="All", code="all", headline="Everyone.")
    RuleFix.objects.create(rule=rule, fix=own, position=1)
    RuleFix.objects.create(rule=rule, fix=general, position=2)

    titles = {}
    for slug, service in services.items():
        run = CheckRun.objects.create(service=service, state=CheckRun.State.COMPLETE)
        titles[slug] = [fix.title for fix in run.verdict([]).fixes]
    assert titles == {"chatgpt": ["Own"], "discord": ["General"]}


# --- The panel: which service a press is about ----------------------------------


@pytest.mark.django_db
def test_a_guide_about_one_service_checks_that_service_without_asking(
    client: Client, services: dict[str, Service]
) -> None:
    _guide("chatgpt-1020", services["chatgpt"])
    html = client.get("/checks/panel/?article=chatgpt-1020").content.decode()
    assert 'name="service" value="chatgpt"' in html
    assert "We check ChatGPT from our server" in html
    assert "<select" not in html


@pytest.mark.django_db
def test_a_service_pages_panel_checks_that_service_without_asking(
    client: Client, services: dict[str, Service]
) -> None:
    html = client.get("/checks/panel/?service=discord&fixed=1").content.decode()
    assert 'name="service" value="discord"' in html
    assert "We check Discord from our server" in html
    assert "<select" not in html
    # Without a known service there is nothing to fix: the picker stays.
    unknown = client.get("/checks/panel/?service=nope&fixed=1").content.decode()
    assert "Which service are you trying to reach?" in unknown


@pytest.mark.django_db
def test_a_general_guides_panel_asks_and_starts_on_the_service_in_the_page_address(
    client: Client, services: dict[str, Service]
) -> None:
    _guide("any-1015", None)
    plain = client.get("/checks/panel/?article=any-1015").content.decode()
    assert "Which service are you trying to reach?" in plain
    assert '<option value="" selected>' in plain

    shared_link = "http://testserver/articles/any-1015/?service=discord"
    html = client.get(
        "/checks/panel/?article=any-1015", HTTP_HX_CURRENT_URL=shared_link, **HTMX
    ).content.decode()
    assert '<option value="discord" selected>' in html
    assert '<option value="" selected>' not in html


@pytest.mark.django_db
def test_a_press_without_a_service_is_asked_again_and_starts_nothing(
    client: Client, services: dict[str, Service]
) -> None:
    _guide("any-1015", None)
    response = client.post("/checks/", {"article": "any-1015"})
    assert response.status_code == 400
    assert "Choose the service you are trying to reach" in response.content.decode()
    assert not CheckRun.objects.exists()


@pytest.mark.django_db
def test_a_posted_service_cannot_override_the_guides_own(
    client: Client, edge: Any, services: dict[str, Service]
) -> None:
    _guide("chatgpt-1020", services["chatgpt"])
    client.post("/checks/", {"article": "chatgpt-1020", "service": "discord"})
    assert CheckRun.objects.get().service == services["chatgpt"]


@pytest.mark.django_db
def test_the_service_page_shows_its_own_targets_and_guides(
    client: Client, edge: Any, services: dict[str, Service]
) -> None:
    _target(edge, "/ok", services["discord"], name="Discord web app")
    _target(edge, "/ok", services["chatgpt"], name="ChatGPT web app")
    _guide("discord-guide", services["discord"])
    _guide("chatgpt-guide", services["chatgpt"])
    _guide("any-1015", None)
    html = client.get("/services/discord/").content.decode()
    assert "Discord web app" in html and "ChatGPT web app" not in html
    assert "/articles/discord-guide/" in html and "/articles/chatgpt-guide/" not in html
    assert "/articles/any-1015/?service=discord" in html
    assert client.get("/services/nope/").status_code == 404


# --- Upgrading an install from before services ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_attaches_everything_that_exists_to_chatgpt() -> None:
    executor = MigrationExecutor(connection)
    before = [("diagnostics", "0008_state_changes"), ("helpcenter", "0008_fix_ask_if_it_worked")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        OldTarget = old.get_model("diagnostics", "Target")
        OldArticle = old.get_model("helpcenter", "Article")
        OldTarget.objects.create(name="Web", slug="web", url="https://example.invalid/")
        OldTarget.objects.create(
            name="Control", slug="ctl", url="https://example.invalid/", kind="control"
        )
        OldArticle.objects.create(title="Guide", slug="guide", version=1)
        old.get_model("diagnostics", "CheckRun").objects.create()

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

        chatgpt = Service.objects.get(slug="chatgpt")
        assert Target.objects.get(slug="web").service == chatgpt
        assert Target.objects.get(slug="ctl").service is None
        assert Article.objects.get(slug="guide").service == chatgpt
        assert CheckRun.objects.get().service == chatgpt
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
        call_command("flush", interactive=False, verbosity=0)


def test_the_migrations_chatgpt_matches_the_starter_services_file() -> None:
    """Else the first import after an upgrade would read the service as an editor's edit."""
    import importlib
    from pathlib import Path

    import yaml

    migration = importlib.import_module("diagnostics.migrations.0010_attach_to_chatgpt")
    root = Path(__file__).resolve().parents[2]
    shipped = yaml.safe_load((root / "helpcenter/content/services.yml").read_text())
    chatgpt = next(item for item in shipped if item["slug"] == "chatgpt")
    assert {key: chatgpt[key] for key in migration.CHATGPT} == migration.CHATGPT
