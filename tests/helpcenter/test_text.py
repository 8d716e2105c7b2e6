"""Control characters from outside never reach the database (PostgreSQL refuses NUL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpcenter.models import Article, Category, FaqEntry, Fix
from helpcenter.text import normalise_text, stored_text, without_control_chars
from tests.helpcenter.factories import make_article


def test_it_drops_control_characters_but_keeps_tabs_and_line_breaks() -> None:
    assert without_control_chars("java\x00script\x07:\tx\r\ny\x7f") == "javascript:\tx\r\ny"


@pytest.mark.django_db
def test_saved_text_loses_nul_on_every_model() -> None:
    article = make_article()
    article.title = "Access\x00 denied"
    article.body = "## Hi {#hi}\n\nja\x00va"
    article.save()
    fix = Fix.objects.filter(article=article).first()
    assert fix is not None
    fix.body = "step\x00 one"
    fix.save()
    faq = FaqEntry.objects.create(article=article, question="Why\x00?", answer="Be\x00cause.")
    article.refresh_from_db()
    fix.refresh_from_db()
    faq.refresh_from_db()
    assert (article.title, fix.body, faq.question) == ("Access denied", "step one", "Why?")
    assert "\x00" not in article.body + article.body_html + faq.answer_html
    assert Article.objects.filter(body__contains="java").exists()


@pytest.mark.django_db
def test_a_search_with_nul_is_answered_not_a_server_error(client: Client) -> None:
    make_article()
    response = client.get("/search/", {"q": "coo\x00kies <b>"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_run_started_with_a_junk_article_slug_stores_none(client: Client, settings: Any) -> None:
    from diagnostics.models import CheckRun

    settings.CHECKS_REGION = "nowhere"  # no worker needed: the run only has to be created
    response = client.post("/checks/", {"article": "x\x00<script>"})
    assert response.status_code == 302
    assert CheckRun.objects.get().article_slug == ""


def test_it_spells_line_endings_and_the_end_of_a_text_one_way() -> None:
    assert normalise_text("a\r\nb\rc  \r\n\r\n") == "a\nb\nc"
    assert normalise_text("a\n\n  b") == "a\n\n  b"  # indentation inside is kept


def test_it_drops_leading_blank_lines_but_keeps_the_first_lines_indent() -> None:
    assert normalise_text(" \r\n\r\n    code\r\n") == "    code"
    assert stored_text("  Title \r\n", multiline=False) == "Title"
    assert stored_text("a\x00b\r\n", multiline=True) == "ab"


@pytest.mark.django_db
def test_every_save_stores_one_spelling_of_text() -> None:
    """Import, API and shell paths alike: not only the admin's forms."""
    category = Category.objects.create(slug="c", title=" C ", description="d\r\n\r\n")
    article = Article.objects.create(
        title="T ", slug="t", category=category, summary="s\r\n", body="\r\nA\r\nB  \r\n\r\n"
    )
    fix = Fix.objects.create(article=article, title="F", slug="f", body="x\ry\n\n")
    entry = FaqEntry.objects.create(article=article, question=" Q? ", answer="a\r\n")
    for obj in (category, article, fix, entry):
        obj.refresh_from_db()
    assert (category.title, category.description) == ("C", "d")
    assert (article.title, article.summary, article.body) == ("T", "s", "A\nB")
    assert fix.body == "x\ny"
    assert (entry.question, entry.answer) == ("Q?", "a")
