"""The editor's "Preview the public page": the article template, the site's look, nothing saved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.test.html import parse_html

from helpcenter.models import Article
from tests.helpcenter.admin_forms import form_data, make_editor

pytestmark = pytest.mark.django_db

SLUG = "chatgpt-access-denied-1020"


@pytest.fixture
def article() -> Article:
    call_command("import_content", verbosity=0)
    return Article.objects.get(slug=SLUG)


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("boss", password="a-long-test-password"))
    return client


def preview_url(article: Article) -> str:
    return f"/admin/helpcenter/article/{article.pk}/page-preview/"


def article_element(html: str) -> Any:
    found = re.search(r'<article class="article">.*</article>', html, re.S)
    assert found, "no <article> in the page"
    return parse_html(found.group())


def test_the_preview_of_an_unchanged_form_is_the_published_page(
    admin_client: Client, article: Article
) -> None:
    public = admin_client.get(article.get_absolute_url())
    preview = admin_client.post(preview_url(article), form_data(article))

    assert preview.status_code == 200
    assert article_element(preview.content.decode()) == article_element(public.content.decode())
    # The same stylesheet, scripts and Content-Security-Policy as visitors get.
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', public.content.decode()):
        assert asset in preview.content.decode()
    assert preview["Content-Security-Policy"] == public["Content-Security-Policy"]


def test_the_preview_shows_unsaved_changes_and_saves_nothing(
    admin_client: Client, article: Article
) -> None:
    before = (article.body, article.fixes.get(slug="clear-site-cookies").body)
    data = form_data(
        article, title="A new title", body=article.body + "\r\n\r\nA new paragraph.\r\n"
    )
    fix_index = next(
        key.split("-")[1] for key, value in data.items() if value == "clear-site-cookies"
    )
    data[f"fixes-{fix_index}-body"] = '=== "Chrome"\r\n\r\n    Open the settings.\r\n'
    data[f"fixes-{fix_index}-DELETE"] = ""

    body = admin_client.post(preview_url(article), data).content.decode()

    assert "<h1>A new title</h1>" in body
    assert "<p>A new paragraph.</p>" in body
    assert "Preview — not published." in body and "not saved yet" in body
    assert 'class="tabbed-set' in body and "Open the settings." in body
    article.refresh_from_db()
    assert (article.body, article.fixes.get(slug="clear-site-cookies").body) == before
    assert article.title != "A new title"


def test_a_fix_marked_for_deletion_is_left_out_as_saving_would(
    admin_client: Client, article: Article
) -> None:
    data = form_data(article)
    index = next(key.split("-")[1] for key, value in data.items() if value == "restart-router")
    data[f"fixes-{index}-DELETE"] = "on"

    body = admin_client.post(preview_url(article), data).content.decode()

    assert 'id="fix-restart-router"' not in body
    assert 'id="fix-clear-site-cookies"' in body


def test_a_new_article_can_be_previewed_before_its_first_save(admin_client: Client) -> None:
    data = {
        "title": "Brand new",
        "slug": "brand-new",
        "summary": "Not saved yet.",
        "body": '## First {#first}\n\n!!! tip "A tip"\n    Kept short.\n',
        "fixes-TOTAL_FORMS": "0",
        "faq-TOTAL_FORMS": "0",
    }

    response = admin_client.post("/admin/helpcenter/article/page-preview/", data)

    assert response.status_code == 200
    assert 'class="admonition tip"' in response.content.decode()
    assert not Article.objects.filter(slug="brand-new").exists()


def test_only_people_who_may_edit_articles_see_previews(client: Client, article: Article) -> None:
    assert client.post(preview_url(article), form_data(article)).status_code == 302  # to login
    User.objects.create_user("viewer", password="a-long-test-password", is_staff=True)
    client.login(username="viewer", password="a-long-test-password")
    assert client.post(preview_url(article), form_data(article)).status_code == 403
    client.logout()
    make_editor()
    client.login(username="editor", password="a-long-test-password")
    assert client.post(preview_url(article), form_data(article)).status_code == 200


def test_the_change_form_offers_the_page_preview(admin_client: Client, article: Article) -> None:
    body = admin_client.get(f"/admin/helpcenter/article/{article.pk}/change/").content.decode()

    assert f'formaction="{preview_url(article)}"' in body
    assert 'formtarget="_blank"' in body
