"""Editing one fix, or one FAQ entry, on its own admin page."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from reversion.models import Version

from helpcenter.models import Article, FaqEntry, Fix, SynonymSet
from tests.helpcenter.admin_forms import make_editor

pytestmark = pytest.mark.django_db

# Fix slugs repeat across guides (the general 1020 guide shares the ChatGPT one's), so
# a fix is found through its guide.
GUIDE = "chatgpt-access-denied-1020"


@pytest.fixture
def editor_client(client: Client) -> Client:
    call_command("import_content", verbosity=0)
    make_editor()
    client.login(username="editor", password="a-long-test-password")
    return client


def test_a_fix_has_its_own_page_with_the_live_preview(editor_client: Client) -> None:
    fix = Fix.objects.get(article__slug=GUIDE, slug="clear-site-cookies")

    body = editor_client.get(f"/admin/helpcenter/fix/{fix.pk}/change/").content.decode()

    assert 'id="editor-config"' in body and "admin_editor/editor." in body  # (hashed name)
    assert 'name="body"' in body and "Part of <a" in body


def test_saving_one_fix_changes_that_fix_only_and_records_its_version(
    editor_client: Client,
) -> None:
    fix = Fix.objects.get(article__slug=GUIDE, slug="clear-site-cookies")
    other = Fix.objects.get(article__slug=GUIDE, slug="restart-router")
    other_body = other.body
    versions = Version.objects.get_for_object(fix).count()
    data = {
        "article": fix.article_id,
        "order": fix.order,
        "title": fix.title,
        "slug": fix.slug,
        "summary": fix.summary,
        "body": fix.body.replace("\n", "\r\n") + "\r\n\r\nOne more step, edited alone.\r\n",
    }

    response = editor_client.post(f"/admin/helpcenter/fix/{fix.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    fix.refresh_from_db()
    other.refresh_from_db()
    assert fix.body.endswith("One more step, edited alone.")
    assert "<p>One more step, edited alone.</p>" in fix.body_html
    assert other.body == other_body
    assert Version.objects.get_for_object(fix).count() == versions + 1
    public = editor_client.get(fix.article.get_absolute_url()).content.decode()
    assert "One more step, edited alone." in public


def test_an_faq_entry_has_its_own_page(editor_client: Client) -> None:
    entry = FaqEntry.objects.filter(article__slug=GUIDE).first()
    assert entry is not None

    body = editor_client.get(f"/admin/helpcenter/faqentry/{entry.pk}/change/").content.decode()

    assert 'name="answer"' in body and 'id="editor-config"' in body


def test_the_article_form_links_each_fix_to_its_own_page(editor_client: Client) -> None:
    article = Article.objects.get(slug=GUIDE)
    fix = article.fixes.first()
    assert fix is not None

    body = editor_client.get(f"/admin/helpcenter/article/{article.pk}/change/").content.decode()

    assert f'href="/admin/helpcenter/fix/{fix.pk}/change/"' in body


def test_editors_manage_search_synonyms(editor_client: Client) -> None:
    response = editor_client.post(
        "/admin/helpcenter/synonymset/add/", {"name": "reboot", "terms": "reboot, restart"}
    )

    assert response.status_code == 302
    assert SynonymSet.objects.get(name="reboot").phrases() == ["reboot", "restart"]
