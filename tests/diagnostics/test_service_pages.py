"""Two services side by side: their pages, status, crowd reports, feeds, search and home lines.

Discord is the second service here; nothing about it may show under ChatGPT's
name (or the reverse), and every sentence comes from stored rows a test sets.
No request leaves the machine: the targets are never probed, only given samples.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from diagnostics import crowd
from diagnostics.models import CrowdReport, ProbeSample, StateChange, Target
from diagnostics.status import services as service_status
from helpcenter.models import Article, SearchMiss, Service

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cache.clear()  # the crowd's per-visitor limits and the page fragments


@pytest.fixture
def two() -> dict[str, Service]:
    return {
        "chatgpt": Service.objects.create(
            slug="chatgpt", name="ChatGPT", order=1, support_url="https://help.chatgpt.example/"
        ),
        "discord": Service.objects.create(slug="discord", name="Discord", order=2),
    }


def _target(
    slug: str, service: Service | None, kind: str = Target.Kind.WEB_APP, **more: Any
) -> Target:
    probes = ["status"] if kind == Target.Kind.STATUS_PAGE else ["http"]
    return Target.objects.create(
        slug=slug,
        name=f"{slug} name",
        url=f"https://{slug}.example/",
        kind=kind,
        probes=probes,
        service=service,
        **more,
    )


def _sample(target: Target, outcome: str, *, minutes: int = 2, **more: Any) -> ProbeSample:
    probe = (target.probes or ["http"])[0]
    return ProbeSample.objects.create(
        target=target,
        region="default",
        probe=probe,
        outcome=outcome,
        summary=f"{probe} said {outcome}",
        latency_ms=100.0,
        probed_at=timezone.now() - timedelta(minutes=minutes),
        **more,
    )


@pytest.fixture
def targets(two: dict[str, Service]) -> dict[str, Target]:
    return {
        "chatgpt": _target("chat-web", two["chatgpt"]),
        "discord": _target("disc-web", two["discord"]),
        "shared": _target("cf-status", None, Target.Kind.STATUS_PAGE),
    }


# --- "Is it down right now?" ---------------------------------------------------------


def test_a_service_never_probed_says_not_checked_yet(client: Client, targets: Any) -> None:
    html = client.get("/services/discord/").content.decode()
    assert "Discord has not been checked yet, so we can&#x27;t say whether it is down." in html
    assert "answered our server" not in html


def test_a_service_without_targets_says_we_do_not_check_it(client: Client, two: Any) -> None:
    html = client.get("/services/chatgpt/").content.decode()
    assert "We do not check ChatGPT yet" in html


def test_each_page_says_its_own_services_state_and_no_other(client: Client, targets: Any) -> None:
    _sample(targets["chatgpt"], "ok")
    _sample(targets["discord"], "blocked")

    chatgpt = client.get("/services/chatgpt/").content.decode()
    discord = client.get("/services/discord/").content.decode()

    assert "ChatGPT answered our server normally when we checked 2 min ago." in chatgpt
    assert "Discord answered our server with a Cloudflare block or challenge" in discord
    assert "disc-web name" not in chatgpt and "Cloudflare block" not in chatgpt
    assert "chat-web name" not in discord
    # The shared targets are on /status/, not in a service's own list.
    assert "cf-status name" not in chatgpt and "cf-status name" not in discord


def test_a_status_pages_claim_is_added_and_down_says_may_be(client: Client, two: Any) -> None:
    web = _target("d-web", two["discord"])
    page = _target("d-status", two["discord"], Target.Kind.STATUS_PAGE)
    _sample(web, "timeout")
    _sample(page, "ok", evidence={"state": "major_outage", "incidents": []})
    state = service_status.service_state(two["discord"])
    assert state.state == "timeout"
    assert state.sentence == (
        "Discord did not answer our server properly when we checked 2 min ago: it may be down. "
        "d-status name itself says: major outage."
    )
    assert state.phrase == "not answering our server properly"


def test_when_our_own_network_failed_the_service_cannot_tell(client: Client, targets: Any) -> None:
    _sample(targets["chatgpt"], "ok", minutes=5)
    _sample(targets["chatgpt"], "timeout", minutes=1, measured=False)
    state = service_status.service_state(Service.objects.get(slug="chatgpt"))
    assert state.state == "impaired"
    assert state.sentence.startswith("We can't tell whether ChatGPT is down")
    assert "timeout" not in state.sentence and "may be down" not in state.sentence


def test_the_page_holds_history_changes_crowd_checks_guides_and_feed(
    client: Client, targets: Any, two: Any
) -> None:
    _sample(targets["chatgpt"], "ok")
    own = _guide("chatgpt-1020", two["chatgpt"])
    general = _guide("error-1015", None)
    other = _guide("discord-only", two["discord"])

    html = client.get("/services/chatgpt/").content.decode()

    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/services/chatgpt/changes.atom"' in html
    assert 'id="uptime-chat-web-title"' in html and 'id="latency-chat-web-title"' in html
    assert "Recent changes" in html
    assert 'hx-get="/checks/crowd/?service=chatgpt"' in html
    assert 'href="/checks/crowd/?service=chatgpt"' in html
    assert 'hx-get="/checks/panel/?service=chatgpt&amp;fixed=1"' in html
    assert 'href="/checks/?service=chatgpt"' in html
    assert f'href="{own.get_absolute_url()}"' in html
    assert f'href="{general.get_absolute_url()}?service=chatgpt"' in html
    assert other.get_absolute_url() not in html
    assert 'href="https://help.chatgpt.example/"' in html


def _guide(slug: str, service: Service | None) -> Article:
    return Article.objects.create(
        title=f"Guide {slug}",
        slug=slug,
        body="Text.",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now(),
        service=service,
    )


# --- The overview, grouped ----------------------------------------------------------


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find('<section class="status-group"', start)
    return html[start : end if end != -1 else len(html)]


def test_the_overview_groups_cards_by_service_then_the_shared_ones(
    client: Client, targets: Any
) -> None:
    html = client.get("/status/").content.decode()
    chatgpt, discord = _section(html, "group-chatgpt"), _section(html, "group-discord")
    shared = _section(html, "group-shared")

    assert '<a href="/services/chatgpt/">ChatGPT</a>' in chatgpt
    assert "ChatGPT has not been checked yet" in chatgpt  # each group's one sentence
    assert '<a href="/services/discord/">Discord</a>' in discord
    assert "chat-web name" in chatgpt and "disc-web name" not in chatgpt
    assert "disc-web name" in discord and "chat-web name" not in discord
    assert "cf-status name" in shared and "cf-status name" not in chatgpt + discord
    assert html.index("group-chatgpt") < html.index("group-discord") < html.index("group-shared")


# --- Crowd reports ------------------------------------------------------------------


def _reports(target: Target, n: int) -> None:
    at = timezone.now() - timedelta(minutes=3)
    CrowdReport.objects.bulk_create(
        CrowdReport(target=target, visitor_hash=f"v{i}", created_at=at) for i in range(n)
    )


def test_crowd_targets_are_per_service(targets: Any, two: Any) -> None:
    assert crowd.crowd_targets(two["chatgpt"].pk) == [targets["chatgpt"]]
    assert crowd.crowd_targets(two["discord"].pk) == [targets["discord"]]
    assert crowd.crowd_targets() == [targets["chatgpt"], targets["discord"]]


def test_two_services_crowd_reports_and_surges_never_mix(
    client: Client, targets: Any, settings: Any
) -> None:
    settings.CROWD_MIN_REPORTS = 3
    _reports(targets["discord"], 9)
    _reports(targets["chatgpt"], 1)

    discord = client.get("/checks/crowd/?service=discord", headers=HTMX).content.decode()
    chatgpt = client.get("/checks/crowd/?service=chatgpt", headers=HTMX).content.decode()

    assert "Are others having problems with Discord?" in discord
    assert "Many people are reporting problems with disc-web name" in discord
    assert "9 reports in the last 24 hours" in discord and "chat-web name" not in discord
    assert "Many people are reporting" not in chatgpt and "disc-web" not in chatgpt
    assert "1 report in the last 24 hours" in chatgpt


def test_a_general_guides_crowd_slot_reads_the_service_from_the_page_address(
    client: Client, targets: Any
) -> None:
    headers = {**HTMX, "HX-Current-URL": "http://testserver/articles/error-1015/?service=discord"}
    html = client.get("/checks/crowd/", headers=headers).content.decode()
    assert 'id="crowd-disc-web"' in html and 'id="crowd-chat-web"' not in html


def test_the_checks_page_and_a_services_guide_point_the_slot_at_their_service(
    client: Client, targets: Any, two: Any
) -> None:
    checks = client.get("/checks/?service=discord").content.decode()
    assert 'hx-get="/checks/crowd/?service=discord"' in checks
    guide = _guide("discord-guide", two["discord"])
    page = client.get(guide.get_absolute_url()).content.decode()
    assert 'hx-get="/checks/crowd/?service=discord"' in page


def test_without_javascript_a_report_returns_to_its_services_reports(targets: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/checks/crowd/?service=discord")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    response = browser.post("/checks/crowd/disc-web/", {"csrfmiddlewaretoken": token[1]})
    assert response.status_code == 302
    assert response["Location"] == "/checks/crowd/?service=discord"
    assert CrowdReport.objects.filter(target=targets["discord"]).count() == 1
    assert not CrowdReport.objects.filter(target=targets["chatgpt"]).exists()


# --- Feeds, sitemap ------------------------------------------------------------------


def _change(target: Target, to_state: str) -> StateChange:
    return StateChange.objects.create(
        target=target,
        region="default",
        at=timezone.now() - timedelta(minutes=1),
        from_state="ok",
        to_state=to_state,
        evidence=f"{target.slug} evidence",
    )


def test_each_services_feed_holds_only_its_own_changes(client: Client, targets: Any) -> None:
    _change(targets["chatgpt"], "down")
    _change(targets["discord"], "blocked")
    _change(targets["shared"], "degraded")

    discord = client.get("/services/discord/changes.atom")
    assert discord.status_code == 200 and discord["Content-Type"].startswith("application/atom")
    body = discord.content.decode()
    assert "disc-web evidence" in body and "Discord: state changes" in body
    assert "chat-web evidence" not in body and "cf-status evidence" not in body
    assert '/services/discord/" rel="alternate"' in body
    assert '/services/discord/changes.atom" rel="self"' in body
    assert "chat-web evidence" in client.get("/services/chatgpt/changes.atom").content.decode()
    # The feeds that were there stay.
    assert "cf-status evidence" in client.get("/status/changes.atom").content.decode()
    assert client.get("/services/nope/changes.atom").status_code == 404


def test_the_service_pages_recent_changes_are_its_own(client: Client, targets: Any) -> None:
    _change(targets["chatgpt"], "down")
    _change(targets["discord"], "blocked")
    html = client.get("/services/discord/").content.decode()
    assert "disc-web evidence" in html and "chat-web evidence" not in html


def test_the_sitemap_lists_every_service_page(client: Client, targets: Any) -> None:
    body = client.get("/sitemap.xml").content.decode()
    assert "/services/chatgpt/</loc>" in body and "/services/discord/</loc>" in body


# --- Search ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "slug"),
    [("discord", "discord"), ("discord down", "discord"), ("Is ChatGPT down?", "chatgpt")],
)
def test_searching_a_services_name_shows_its_page_first(
    client: Client, two: Any, query: str, slug: str
) -> None:
    html = client.get("/search/", {"q": query}).content.decode()
    cards = re.findall(r'<li class="search-service card"><a href="([^"]+)"', html)
    assert cards == [f"/services/{slug}/"]
    assert not SearchMiss.objects.exists()  # a service page answered it


def test_a_query_naming_no_service_has_no_service_card(client: Client, two: Any) -> None:
    html = client.get("/search/", {"q": "discordant error 1020"}).content.decode()
    assert "search-service" not in html


# --- The home page's lines -----------------------------------------------------------------


def test_the_home_lines_say_each_services_state_and_link_its_page(
    client: Client, targets: Any
) -> None:
    _sample(targets["chatgpt"], "ok", minutes=1)
    html = client.get("/checks/live/services/", headers=HTMX).content.decode()
    lines = re.findall(r'<li class="service-line[^>]*>(.*?)</li>', html, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip() for line in lines]
    assert text == [
        "ChatGPT: reachable from our server, checked 1 min ago",
        "Discord: not checked yet",
    ]
    assert 'href="/services/chatgpt/"' in html and 'href="/services/discord/"' in html
    assert "<html" not in html  # htmx gets the fragment only
    assert client.get("/checks/live/services/")["Cache-Control"].startswith("max-age=0")


def test_a_services_guide_shows_live_status_of_its_own_and_the_shared_targets(
    client: Client, two: Any
) -> None:
    web = {slug: _target(f"{slug}-app", service) for slug, service in two.items()}
    shared = _target("cf-page", None, Target.Kind.STATUS_PAGE)
    for target in (*web.values(), shared):
        _sample(target, "ok")

    html = client.get("/checks/live/?service=discord", headers=HTMX).content.decode()

    assert "discord-app name" in html and "cf-page name" in html
    assert "chatgpt-app name" not in html
    assert 'hx-get="/checks/live/?service=discord"' in html  # it keeps polling the same
    everything = client.get("/checks/live/", headers=HTMX).content.decode()
    assert "discord-app name" in everything and "chatgpt-app name" in everything
