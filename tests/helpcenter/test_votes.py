"""'Did this fix work?' votes: one per visitor per fix, rate-limited, no personal data."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory

from helpcenter.clients import visitor_hash
from helpcenter.feedback import cast_vote, clean_verdict_code
from helpcenter.models import Article, Fix, FixFeedback, Service
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
VOTE_URL = "/articles/access-denied/fix/step-2/vote/"


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def article() -> Article:
    return make_article()


@pytest.fixture
def fix(article: Article) -> Fix:
    return article.fixes.get(slug="step-2")


def _vote(client: Client, answer: str, ip: str = "198.51.100.7", **extra: Any) -> Any:
    return client.post(VOTE_URL, {"helpful": answer, **extra}, REMOTE_ADDR=ip, headers=HTMX)


def test_the_fragment_is_uncached_and_sets_the_csrf_cookie(client: Client, fix: Fix) -> None:
    response = client.get(VOTE_URL, headers=HTMX)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "csrftoken" in response.cookies
    html = response.content.decode()
    assert 'hx-post="/articles/access-denied/fix/step-2/vote/"' in html
    assert "<html" not in html  # the partial only


def test_the_article_and_fix_pages_hold_only_slots(client: Client, fix: Fix) -> None:
    for url in ("/articles/access-denied/", "/articles/access-denied/fix/step-2/"):
        response = client.get(url)
        assert response.status_code == 200
        assert not response.cookies
        html = response.content.decode()
        assert "csrfmiddlewaretoken" not in html
        assert 'hx-get="/articles/access-denied/fix/step-2/vote/"' in html
        # Without JavaScript the slot is a plain link to the vote page.
        assert 'href="/articles/access-denied/fix/step-2/vote/"' in html


def test_a_vote_is_thanked_and_stored(client: Client, fix: Fix) -> None:
    response = _vote(client, "yes")
    assert response.status_code == 200
    assert "Thanks — noted." in response.content.decode()
    vote = FixFeedback.objects.get()
    assert vote.fix == fix and vote.helpful is True and vote.verdict_code == ""


def test_a_second_vote_changes_the_first_instead_of_adding_one(client: Client, fix: Fix) -> None:
    _vote(client, "yes")
    _vote(client, "no")
    _vote(client, "no")
    assert FixFeedback.objects.count() == 1
    assert FixFeedback.objects.get().helpful is False
    _vote(client, "yes", ip="198.51.100.8")  # another visitor
    assert fix.feedback_summary().yes == 1 and fix.feedback_summary().no == 1


def test_the_form_shows_a_visitor_their_earlier_answer(client: Client, fix: Fix) -> None:
    _vote(client, "no")
    html = client.get(VOTE_URL, REMOTE_ADDR="198.51.100.7", headers=HTMX).content.decode()
    assert "You said no" in html


def test_a_vote_from_a_report_stores_the_verdict_code(client: Client, fix: Fix) -> None:
    page = client.get(VOTE_URL + "?verdict=blocked-1020", headers=HTMX).content.decode()
    assert 'name="verdict" value="blocked-1020"' in page
    _vote(client, "yes", verdict="blocked-1020")
    assert FixFeedback.objects.get().verdict_code == "blocked-1020"
    # Changing the answer later keeps the failure it was about.
    _vote(client, "no")
    assert FixFeedback.objects.get().verdict_code == "blocked-1020"


@pytest.mark.parametrize(
    "raw", ["<script>", "a b", "x" * 61, "../admin", "blocked--1020", "-lead", "", "UPPER CASE"]
)
def test_a_verdict_code_must_be_slug_like(raw: str) -> None:
    assert clean_verdict_code(raw) == ""


def test_valid_verdict_codes_pass(client: Client, fix: Fix) -> None:
    assert clean_verdict_code("down_for_everyone") == "down_for_everyone"
    assert clean_verdict_code("x" * 60) == "x" * 60
    _vote(client, "yes", verdict="<b>bad</b>")
    assert FixFeedback.objects.get().verdict_code == ""


def test_too_many_votes_get_429(client: Client, fix: Fix, settings: Any) -> None:
    settings.VOTE_RATE_PER_HOUR = 3
    for answer in ("yes", "no", "yes"):
        assert _vote(client, answer).status_code == 200
    refused = _vote(client, "no")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "try again" in refused.content.decode()
    assert FixFeedback.objects.get().helpful is True  # the refused vote changed nothing
    assert _vote(client, "no", ip="198.51.100.9").status_code == 200  # others still can


def test_a_missing_answer_is_a_400(client: Client, fix: Fix) -> None:
    response = client.post(VOTE_URL, {"helpful": "maybe"}, headers=HTMX)
    assert response.status_code == 400
    assert not FixFeedback.objects.exists()


def test_without_javascript_the_vote_page_posts_and_returns_to_the_fix(
    client: Client, fix: Fix
) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    page = csrf_client.get(VOTE_URL)
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert "csrfmiddlewaretoken" in html and 'content="noindex"' in html
    token = page.cookies["csrftoken"].value
    response = csrf_client.post(VOTE_URL, {"helpful": "yes", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == "/articles/access-denied/fix/step-2/#vote"
    assert FixFeedback.objects.count() == 1


def test_a_vote_without_a_csrf_token_is_refused(fix: Fix) -> None:
    response = Client(enforce_csrf_checks=True).post(VOTE_URL, {"helpful": "yes"}, headers=HTMX)
    assert response.status_code == 403
    assert not FixFeedback.objects.exists()


def test_unknown_or_unpublished_fixes_are_404(client: Client, article: Article) -> None:
    assert client.get("/articles/access-denied/fix/nope/vote/").status_code == 404
    make_article("draft-one", status="draft")
    assert client.get("/articles/draft-one/fix/step-1/vote/").status_code == 404


def test_no_client_address_is_stored_anywhere(client: Client, fix: Fix) -> None:
    address = "203.0.113.77"
    _vote(client, "yes", ip=address, verdict="blocked-1020")
    client.get(VOTE_URL, REMOTE_ADDR=address)
    assert FixFeedback.objects.get().visitor_hash == visitor_hash(
        RequestFactory().get("/", REMOTE_ADDR=address)
    )
    assert _tables_containing(address) == []
    assert "helpcenter_fix.title" in _tables_containing(fix.title)  # the scan does read rows


def test_the_summary_gives_counts_and_the_ratio(fix: Fix) -> None:
    assert fix.feedback_summary().ratio is None
    for n, helpful in enumerate([True, True, True, False]):
        cast_vote(fix.pk, f"visitor-{n}", helpful)
    summary = fix.feedback_summary()
    assert (summary.yes, summary.no, summary.total, summary.ratio) == (3, 1, 4, 0.75)


def test_the_admin_lists_votes_and_per_fix_ratios(admin_client: Client, fix: Fix) -> None:
    for n, helpful in enumerate([True, True, True, False]):
        cast_vote(fix.pk, f"visitor-{n}", helpful, "blocked-1020")
    votes = admin_client.get("/admin/helpcenter/fixfeedback/?helpful__exact=1")
    assert votes.status_code == 200
    assert "blocked-1020" in votes.content.decode()
    per_fix = admin_client.get("/admin/helpcenter/fixvotes/")
    assert per_fix.status_code == 200
    assert "75%" in per_fix.content.decode()


def _tables_containing(text: str) -> list[str]:
    """Every table and column whose stored value contains ``text``."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table.startswith("sqlite_") or "fts" in table:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [col[0] for col in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is not None and text in str(value):
                        found.append(f"{table}.{column}")
    return found


# --- Votes per service --------------------------------------------------------------


@pytest.fixture
def services() -> dict[str, Service]:
    return {
        slug: Service.objects.create(slug=slug, name=name, order=order)
        for order, (slug, name) in enumerate((("chatgpt", "ChatGPT"), ("discord", "Discord")))
    }


def test_a_vote_on_a_general_fix_keeps_the_service_of_the_page_address(
    client: Client, fix: Fix, services: dict[str, Service]
) -> None:
    # htmx fetches the form from the cached fix page, whose address names the service.
    page = "http://testserver/articles/access-denied/fix/step-2/?service=discord"
    form = client.get(VOTE_URL, headers={**HTMX, "HX-Current-URL": page}).content.decode()
    assert '<input type="hidden" name="service" value="discord">' in form
    _vote(client, "yes", service="discord")
    assert FixFeedback.objects.get().service == services["discord"]


def test_without_javascript_the_vote_page_carries_the_service_along(
    client: Client, fix: Fix, services: dict[str, Service]
) -> None:
    html = client.get(VOTE_URL + "?service=discord").content.decode()
    assert '<input type="hidden" name="service" value="discord">' in html
    client.post(VOTE_URL, {"helpful": "no", "service": "discord"})
    assert FixFeedback.objects.get().service == services["discord"]


def test_a_vote_names_no_service_it_does_not_know_and_cannot_move_a_guides_own(
    client: Client, article: Article, fix: Fix, services: dict[str, Service]
) -> None:
    _vote(client, "yes", service="nope")
    assert FixFeedback.objects.get().service is None
    article.service = services["chatgpt"]
    article.save()
    _vote(client, "yes", ip="198.51.100.8", service="discord")
    assert FixFeedback.objects.filter(service=services["chatgpt"]).count() == 1


def test_the_vote_counts_can_be_narrowed_to_one_service(
    admin_client: Client, fix: Fix, services: dict[str, Service]
) -> None:
    for n, (service, helpful) in enumerate([("chatgpt", True), ("discord", False),
                                            ("discord", False), ("discord", True)]):  # fmt: skip
        cast_vote(fix.pk, f"visitor-{n}", helpful, service_id=services[service].pk)
    every = admin_client.get("/admin/helpcenter/fixvotes/").content.decode()
    assert "50%" in every
    discord = admin_client.get("/admin/helpcenter/fixvotes/?service=discord")
    assert discord.status_code == 200
    assert "33%" in discord.content.decode()
    chatgpt = admin_client.get("/admin/helpcenter/fixvotes/?service=chatgpt")
    assert "100%" in chatgpt.content.decode()
    discord_id = services["discord"].pk
    listed = admin_client.get(f"/admin/helpcenter/fixfeedback/?service__id__exact={discord_id}")
    assert listed.status_code == 200
