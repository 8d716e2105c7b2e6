"""Where the offer shows, the privacy page's promise, and who sees which addresses."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from diagnostics.models import CheckRun, ProbeResult, ProbeSample, Target
from notices.models import Subscription
from tests.diagnostics.test_coalesce import unique_target
from tests.diagnostics.test_panel_views import rules  # noqa: F401 (the starter verdict rules)


def finished_run(
    rows: list[tuple[Target, str]],
    browser_1020: bool = False,
    evidence: dict[Target, dict[str, Any]] | None = None,
) -> CheckRun:
    run = CheckRun.objects.create(
        state=CheckRun.State.COMPLETE,
        finished_at=timezone.now(),
        expected_results=len(rows),
        regions=["default"],
        visitor_answer="block_1020" if browser_1020 else "",
        pasted_code="1020" if browser_1020 else "",
    )
    for target, outcome in rows:
        ProbeResult.objects.create(
            run=run,
            target=target,
            region="default",
            probe="status" if target.kind == Target.Kind.STATUS_PAGE else "http",
            outcome=outcome,
            summary="x",
            evidence=(evidence or {}).get(target, {}),
        )
    return run


@pytest.mark.django_db
@pytest.mark.usefixtures("rules")
def test_the_report_offers_it_for_what_our_server_saw_failing(client: Any, edge: Any) -> None:
    service = unique_target(edge, "/ok")
    control = unique_target(edge, "/ok", kind=Target.Kind.CONTROL)
    run = finished_run([(service, "down"), (control, "ok")])
    page = client.get(f"/checks/{run.pk}/").content.decode()
    assert 'data-verdict="down-for-everyone"' in page
    assert f'href="/notices/back/{service.slug}/"' in page
    assert f"Our server saw trouble with {service.name} in this run." in page
    assert f"Email me when {service.name} is back" in page


@pytest.mark.django_db
@pytest.mark.usefixtures("rules")
def test_a_status_page_reporting_the_outage_is_not_offered_beside_the_app(
    client: Any, edge: Any
) -> None:
    app = unique_target(edge, "/ok")
    status = unique_target(edge, "/ok", kind=Target.Kind.STATUS_PAGE)
    control = unique_target(edge, "/ok", kind=Target.Kind.CONTROL)
    outage = {status: {"state": "major_outage"}}
    run = finished_run([(app, "down"), (status, "down"), (control, "ok")], evidence=outage)
    page = client.get(f"/checks/{run.pk}/").content.decode()
    assert f"Email me when {app.name} is back" in page
    assert f"Email me when {status.name} is back" not in page
    # Alone, the status page's report is the only trouble seen: that one is offered.
    alone = finished_run([(app, "ok"), (status, "down"), (control, "ok")], evidence=outage)
    page = client.get(f"/checks/{alone.pk}/").content.decode()
    assert f"Email me when {status.name} is back" in page


# (the service's outcome, the control's, the visitor saw a 1020 page, the verdict, offered?)
OFFERS = [
    # Our server blocked too: when its block lifts, the visitor's may have lifted as well.
    ("blocked", "ok", True, "blocked-1020", True),
    # "The service turned our checking server away, so we can't see it from here".
    ("challenged", "ok", False, "checks-blocked", False),
    # A block only the visitor sees ends where our server cannot observe it.
    ("ok", "ok", True, "blocked-1020", False),
    # Our server reaches nothing: its view says nothing.
    ("timeout", "timeout", False, "checks-impaired", False),
]


@pytest.mark.django_db
@pytest.mark.usefixtures("rules")
@pytest.mark.parametrize(("outcome", "control_outcome", "saw_1020", "verdict", "offered"), OFFERS)
def test_the_offer_follows_what_our_server_can_watch(
    client: Any,
    edge: Any,
    outcome: str,
    control_outcome: str,
    saw_1020: bool,
    verdict: str,
    offered: bool,
) -> None:
    service = unique_target(edge, "/ok")
    control = unique_target(edge, "/ok", kind=Target.Kind.CONTROL)
    run = finished_run([(service, outcome), (control, control_outcome)], browser_1020=saw_1020)
    page = client.get(f"/checks/{run.pk}/").content.decode()
    assert f'data-verdict="{verdict}"' in page
    assert (f"Email me when {service.name} is back" in page) is offered
    assert ("Email me when" in page) is offered


@pytest.mark.django_db
def test_status_pages_offer_it_only_while_the_target_is_not_up(client: Any, edge: Any) -> None:
    target = unique_target(edge, "/ok")
    ProbeSample.objects.create(
        target=target, region="default", probe="http", outcome="ok", summary="HTTP 200"
    )
    offer = f'href="/notices/back/{target.slug}/"'
    assert offer not in client.get(f"/status/{target.slug}/").content.decode()
    ProbeSample.objects.create(
        target=target,
        region="default",
        probe="http",
        outcome="down",
        summary="refused",
        probed_at=timezone.now() + timedelta(seconds=1),
    )
    assert offer in client.get(f"/status/{target.slug}/").content.decode()
    assert offer in client.get("/status/").content.decode()


@pytest.mark.django_db
def test_the_form_page_says_what_happens_to_the_address(
    client: Any, edge: Any, settings: Any
) -> None:
    settings.NOTICES_KEEP_DAYS = 12
    target = unique_target(edge, "/ok")
    page = client.get(f"/notices/back/{target.slug}/").content.decode()
    assert '<label for="id_email">Your email address</label>' in page
    assert "or after 12 days, whichever comes first" in page
    control = unique_target(edge, "/ok", kind=Target.Kind.CONTROL)
    assert client.get(f"/notices/back/{control.slug}/").status_code == 404


@pytest.mark.django_db
def test_the_privacy_page_says_what_is_kept_and_for_how_long(client: Any, settings: Any) -> None:
    settings.NOTICES_KEEP_DAYS = 21
    page = client.get("/privacy/").content.decode()
    assert '<strong data-setting="NOTICES_KEEP_DAYS">21 days</strong>' in page
    assert "deleted as soon as that notice is sent" in page


def login(client: Any, *, superuser: bool) -> None:
    if superuser:
        User.objects.create_superuser("root", password="a-long-test-password")
        client.login(username="root", password="a-long-test-password")
        return
    editor = User.objects.create_user("ed", password="a-long-test-password", is_staff=True)
    group, _ = Group.objects.get_or_create(name="Editor")
    editor.groups.add(group)
    client.login(username="ed", password="a-long-test-password")


@pytest.mark.django_db
def test_editors_see_counts_never_addresses(client: Any, edge: Any) -> None:
    target = unique_target(edge, "/ok")
    Subscription.objects.create(email="a@example.org", target=target, confirmed_at=timezone.now())
    Subscription.objects.create(email="b@example.org", target=target)
    login(client, superuser=False)
    page = client.get("/staff/notices/").content.decode()
    assert f'<tr><th scope="row">{target.name}</th><td>1</td><td>1</td></tr>' in page
    assert "@example.org" not in page
    assert client.get("/admin/notices/subscription/").status_code == 403
    assert client.get("/admin/notices/subscription/?q=a%40example.org").status_code == 403
    assert "a@example.org" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_the_counts_are_grouped_by_service_and_never_mix(client: Any, edge: Any) -> None:
    from helpcenter.models import Service

    first = Service.objects.create(slug="first-svc", name="First service")
    second = Service.objects.create(slug="second-svc", name="Second service", order=1)
    a1 = unique_target(edge, "/ok", service=first, order=1)
    a2 = unique_target(edge, "/ok", service=first, order=2)
    b1 = unique_target(edge, "/ok", service=second)
    shared = unique_target(edge, "/ok")
    now = timezone.now()
    for n, target in enumerate([a1, a1, a2, b1, shared]):
        Subscription.objects.create(email=f"{n}@example.org", target=target, confirmed_at=now)
    Subscription.objects.create(email="later@example.org", target=b1)
    login(client, superuser=False)
    page = client.get("/staff/notices/").content.decode()

    tables = re.findall(r'<table class="counts">(.*?)</table>', page, re.S)
    captions = [re.search(r"<caption>(.*?)</caption>", t)[1] for t in tables]  # type: ignore[index]
    assert captions[:2] == ["First service", "Second service"]
    assert captions[-1] == "Checked for every service"  # shared targets come last
    first_table, second_table, shared_table = tables[0], tables[1], tables[-1]
    assert f'<tr><th scope="row">{a1.name}</th><td>2</td><td>0</td></tr>' in first_table
    assert f'<tr><th scope="row">{a2.name}</th><td>1</td><td>0</td></tr>' in first_table
    assert '<tfoot><tr><th scope="row">All together</th><td>3</td><td>0</td></tr>' in first_table
    assert b1.name not in first_table and shared.name not in first_table
    assert f'<tr><th scope="row">{b1.name}</th><td>1</td><td>1</td></tr>' in second_table
    assert "<tfoot>" not in second_table  # one check: its row is the total
    assert f'<tr><th scope="row">{shared.name}</th><td>1</td><td>0</td></tr>' in shared_table
    assert "@example.org" not in page


@pytest.mark.django_db
def test_visitors_cannot_see_the_counts(client: Any) -> None:
    assert client.get("/staff/notices/").status_code == 302


@pytest.mark.django_db
def test_admins_find_a_subscription_by_address_and_delete_it(client: Any, edge: Any) -> None:
    target = unique_target(edge, "/ok")
    wanted = Subscription.objects.create(email="find.me@example.org", target=target)
    Subscription.objects.create(email="other@example.org", target=target)
    login(client, superuser=True)
    page = client.get("/admin/notices/subscription/?q=find.me%40example.org").content.decode()
    assert "find.me@example.org" in page and "other@example.org" not in page
    response = client.post(f"/admin/notices/subscription/{wanted.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(Subscription.objects.values_list("email", flat=True)) == ["other@example.org"]


@pytest.mark.django_db
def test_nothing_is_offered_beside_an_all_clear(edge: Any) -> None:
    from diagnostics.verdict import FALLBACK
    from notices import recovery

    service = unique_target(edge, "/ok")
    run = finished_run([(service, "down")])
    assert recovery.offer_targets(run, FALLBACK) == []
    assert recovery.offer_targets(run, None) == []


@pytest.mark.django_db
def test_the_admin_index_links_editors_to_the_counts(client: Any) -> None:
    from tests.helpcenter.admin_forms import make_editor

    make_editor()
    client.login(username="editor", password="a-long-test-password")
    page = client.get("/admin/").content.decode()
    assert '<a href="/staff/notices/">Recovery notices</a>' in page
    assert "Subscriptions" not in page  # the model holding addresses is not listed for them
