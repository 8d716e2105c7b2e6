"""Search that understands how people type: synonyms, split words, partial
matches, titles and codes first, typos with the correction shown.

Runs on whichever backend DATABASE_URL picks (CI: SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpcenter import search as site_search
from helpcenter.models import Fix, SeededRow, SynonymSet
from tests.helpcenter.test_search import make_article, titles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_index(db: None) -> None:
    site_search.rebuild()


def test_a_synonym_set_applies_at_query_time_without_reindexing() -> None:
    make_article("Turn off browser extensions", body="Some add-ons get in the way.")
    assert site_search.search("disable extensions").partial  # "extensions" alone

    SynonymSet.objects.create(name="disable", terms="disable, turn off")

    results = site_search.search("disable extensions")
    assert not results.partial
    assert [hit.title for hit in results.hits] == ["Turn off browser extensions"]


def test_a_synonym_phrase_matches_as_a_phrase_not_as_loose_words() -> None:
    SynonymSet.objects.create(name="captcha", terms="captcha, verify you are human")
    make_article("Stuck on the check", body="The page asks you to verify you are human.")
    make_article("Unrelated", body="Verify the cable. You are done. Human error happens.")

    assert titles("captcha") == ["Stuck on the check"]


def test_a_synonym_set_needs_two_terms() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        SynonymSet(name="lonely", terms="disable, ").full_clean()


def test_words_typed_apart_find_the_joined_word_and_the_other_way_round() -> None:
    make_article("ChatGPT says access denied", body="A firewall rule.")
    make_article("Cloud flare notes", body="Weather words: cloud, flare.")

    assert titles("chat gpt") == ["ChatGPT says access denied"]
    assert titles("accessdenied") == ["ChatGPT says access denied"]


def test_when_no_page_has_every_word_pages_with_most_words_come_ranked() -> None:
    make_article("Clear cookies", body="Cookies and cache in the browser.")
    make_article("Router", body="Restart the router and the modem.")
    make_article("Browser only", body="Another browser.")

    results = site_search.search("cookies browser modem")

    assert results.partial
    # Two of three words beat one of three.
    assert [hit.title for hit in results.hits][:1] == ["Clear cookies"]
    assert set(hit.title for hit in results.hits) == {"Clear cookies", "Router", "Browser only"}


def test_most_words_stops_once_the_page_is_full_and_tries_unknown_words_last() -> None:
    for n in range(25):
        make_article(f"Guide {n}", slug=f"guide-{n}", body="Cookies live in the browser.")
    with CaptureQueriesContext(connection) as plain:
        site_search.search("cookies browser")

    with CaptureQueriesContext(connection) as partial:
        results = site_search.search("cookies browser zzqqx")

    assert results.partial
    assert len(results.hits) == 20
    # "cookies browser" fills the page: no combination with the unknown word
    # is tried. Beyond the plain search: spelling candidates for "zzqqx", and
    # the search for all three words (two tiers at most).
    assert len(partial.captured_queries) <= len(plain.captured_queries) + 3


def test_a_query_naming_an_error_code_puts_that_codes_guide_first() -> None:
    for n in range(3):
        make_article(f"Blocked page {n}", body="error 1020 " * 20 + "firewall " * 5)
    make_article("Access denied (error 1020)", slug="e1020", body="The firewall said no.")

    assert titles("1020")[0] == "Access denied (error 1020)"
    assert titles("firewall 1020")[0] == "Access denied (error 1020)"


def test_a_query_that_is_nearly_a_title_puts_that_page_first() -> None:
    article = make_article(
        "Why access is denied", body="Turn off browser extensions. " * 10, slug="why"
    )
    Fix.objects.create(
        article=article, title="Turn off browser extensions", slug="ext", body="Open the menu."
    )
    make_article("Extensions everywhere", body="turn off browser extensions " * 30)

    assert titles("turn off browser extensions")[0] == "Turn off browser extensions"


def test_a_typo_in_the_first_letter_is_corrected_and_the_correction_shown() -> None:
    make_article("Cloudflare error 1020", body="Cloudflare blocks the request.")

    results = site_search.search("vloudflare")

    assert [hit.title for hit in results.hits] == ["Cloudflare error 1020"]
    assert results.corrected == "cloudflare"
    exact = site_search.search("vloudflare", correct=False)
    assert exact.hits == [] and exact.corrected is None


@pytest.mark.parametrize("typo", ["loudflare", "xcloudflare", "lcoudflare", "cloudflar"])
def test_typos_near_the_first_letter_are_corrected_too(typo: str) -> None:
    make_article("Cloudflare error 1020", body="Cloudflare blocks the request.")

    assert titles(typo) == ["Cloudflare error 1020"]


def test_the_page_says_what_it_searched_for_and_offers_the_visitors_spelling(client: Any) -> None:
    make_article("Cloudflare error 1020", body="Cloudflare blocks the request.")

    body = client.get("/search/", {"q": "vloudflare"}).content.decode()
    assert "Showing results for <strong>cloudflare</strong>" in body
    assert 'href="/search/?q=vloudflare&amp;exact=1"' in body

    exact = client.get("/search/", {"q": "vloudflare", "exact": "1"}).content.decode()
    assert "Showing results for" not in exact
    assert "Nothing matches" in exact


def test_the_page_says_when_results_have_only_most_of_the_words(client: Any) -> None:
    make_article("Clear cookies", body="Cookies and cache.")

    body = client.get("/search/", {"q": "cookies zebra"}).content.decode()

    assert "No guide has all of your words" in body
    assert "Clear cookies" in body


def test_a_fix_hit_names_its_guide_without_doubling_the_guides_quotes(client: Any) -> None:
    article = make_article("ChatGPT says “Access denied”", slug="ad")
    Fix.objects.create(article=article, title="Clear the cookies", slug="cookies", body="x")

    body = client.get("/search/", {"q": "clear cookies"}).content.decode()

    assert "““" not in body and "””" not in body
    assert "A fix in the guide: ChatGPT says “Access denied”" in body


def test_starter_synonyms_follow_the_starter_policy(capsys: Any) -> None:
    call_command("seed_synonyms")
    disable = SynonymSet.objects.get(name="disable")
    assert "turn off" in disable.phrases()
    assert SeededRow.objects.filter(kind="synonyms", key="disable").exists()

    disable.terms = "disable, turn off, kill"
    disable.save()
    call_command("seed_synonyms")

    disable.refresh_from_db()
    assert disable.terms == "disable, turn off, kill"
    assert "Kept your edit of synonym set disable." in capsys.readouterr().out
