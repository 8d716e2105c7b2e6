"""Editing in the admin: live preview, optimistic locking, bad input, slugs and scheduling."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from helpcenter import diffs, editing
from helpcenter.markdown import MAX_SOURCE_CHARS, render_inline, render_markdown
from helpcenter.models import Article, Fix, SlugRedirect
from tests.helpcenter.admin_forms import change_url, form_data, make_editor
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

PREVIEW_URL = "/admin/helpcenter/article/preview/"


@pytest.fixture
def editor_client(client: Any) -> Any:
    client.force_login(make_editor())
    return client


# --- Live preview ---------------------------------------------------------------


def test_it_previews_with_the_public_renderer(editor_client: Any) -> None:
    text = "Intro <script>alert(1)</script>\n\n## Steps {#steps}\n\n1. **Do** it"
    response = editor_client.post(
        PREVIEW_URL, {"field": "body", "body": text, "mode": "block"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert render_markdown(text).html in html
    assert "<script>alert" not in html
    assert "<html" not in html  # the htmx fragment, not the page
    assert "no-store" in response["Cache-Control"]


def test_it_previews_an_inline_fix_body_by_field_name(editor_client: Any) -> None:
    response = editor_client.post(
        PREVIEW_URL,
        {"field": "fixes-2-body", "fixes-2-body": "Do *this*.", "body": "ignored"},
        HTTP_HX_REQUEST="true",
    )
    assert "<em>this</em>" in response.content.decode()
    assert "ignored" not in response.content.decode()


def test_it_previews_faq_answers_as_snippets(editor_client: Any) -> None:
    response = editor_client.post(
        PREVIEW_URL,
        {"field": "faq-0-answer", "faq-0-answer": "Yes, **always**.", "mode": "inline"},
        HTTP_HX_REQUEST="true",
    )
    assert render_inline("Yes, **always**.") in response.content.decode()


def test_it_shows_heading_problems_beside_the_preview(editor_client: Any) -> None:
    text = "## No id\n\n## One {#a}\n\n## Two {#a}\n\n## Bad {#Bad_Id}"
    html = editor_client.post(
        PREVIEW_URL, {"field": "body", "body": text}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "editor-preview-problems" in html
    # The preview shows the heading as saving will store it: with its new id.
    assert '<h2 id="no-id">' in html
    assert "Heading &#x27;No id&#x27; gets the link id #no-id when you save." in html
    assert "repeats an id used earlier" in html


def test_it_says_why_a_preview_cannot_render(editor_client: Any) -> None:
    text = "x" * (MAX_SOURCE_CHARS + 1)
    html = editor_client.post(
        PREVIEW_URL, {"field": "body", "body": text}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f"the limit is {MAX_SOURCE_CHARS:,} characters" in html


def test_it_renders_a_whole_page_without_htmx(editor_client: Any) -> None:
    html = editor_client.post(PREVIEW_URL, {"field": "body", "body": "Hi"}).content.decode()
    assert "<html" in html and "<p>Hi</p>" in html


def test_the_change_form_carries_the_editor_and_preview_link(editor_client: Any) -> None:
    article = make_article(status="draft")
    html = editor_client.get(change_url(article)).content.decode()
    assert "admin_editor/editor." in html
    assert 'data-preview-url="/admin/helpcenter/article/preview/"' in html
    assert "Copy preview link" in html and "/preview/" in html
    assert 'name="loaded_state"' in html


# --- Optimistic locking ----------------------------------------------------------


def test_it_saves_and_counts_versions(editor_client: Any) -> None:
    article = make_article()
    before = article.version
    response = editor_client.post(change_url(article), form_data(article, title="New title"))
    assert response.status_code == 302, response.content.decode()[:3000]
    article.refresh_from_db()
    assert article.title == "New title"
    assert article.version == before + 1


def test_every_save_path_counts_a_version() -> None:
    article = make_article()
    first = article.version
    Article.objects.get(pk=article.pk).save()
    stale = Article.objects.get(pk=article.pk)
    stale.version = 0  # a restored old copy must still move the number forward
    stale.save(update_fields=["title"])
    assert Article.objects.get(pk=article.pk).version == first + 2


def test_it_refuses_a_stale_form_and_keeps_the_text(client: Any) -> None:
    first = User.objects.create_user("ana", first_name="Ana", last_name="Lima", is_staff=True)
    first.groups.add(make_editor("bo").groups.get())
    second = User.objects.get(username="bo")
    article = make_article()
    ana_form = form_data(article, body=article.body + "\n\nAna's paragraph.")
    bo_form = form_data(article, body=article.body + "\n\nBo's <b>paragraph</b>.")

    client.force_login(first)
    assert client.post(change_url(article), ana_form).status_code == 302
    client.force_login(second)
    response = client.post(change_url(article), bo_form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ana Lima saved this article at" in html
    assert "Nothing was saved" in html
    assert "Ana&#x27;s paragraph." in html  # in the diff, escaped
    assert "Bo&#x27;s &lt;b&gt;paragraph&lt;/b&gt;." in html  # still in the textarea
    article.refresh_from_db()
    assert "Ana's paragraph." in article.body and "Bo's" not in article.body
    form = response.context["adminform"].form
    assert [c.name for c in form.conflict.changes] == ["body"]

    # Having seen the diff, saving again replaces the other version on purpose.
    again = {**bo_form, "loaded_state": form.data["loaded_state"]}
    assert client.post(change_url(article), again).status_code == 302
    article.refresh_from_db()
    assert "Bo's" in article.body


def test_a_save_from_outside_the_admin_is_someone_else(editor_client: Any) -> None:
    article = make_article()
    stale = form_data(article, title="Mine")
    Article.objects.filter(pk=article.pk).first().save()  # e.g. the importer
    html = editor_client.post(change_url(article), stale).content.decode()
    assert "Someone else saved this article" in html


def test_a_form_with_a_garbled_state_is_refused(editor_client: Any) -> None:
    article = make_article()
    data = form_data(article, title="Changed", loaded_state="{not json")
    html = editor_client.post(change_url(article), data).content.decode()
    assert "saved this article" in html
    article.refresh_from_db()
    assert article.title != "Changed"


# --- Bad input ------------------------------------------------------------------


def test_an_oversized_body_names_the_limit_and_saves_nothing(editor_client: Any) -> None:
    article = make_article()
    version = article.version
    data = form_data(article, title="Changed", body="x" * (MAX_SOURCE_CHARS + 5))
    response = editor_client.post(change_url(article), data)
    assert response.status_code == 200
    assert f"the limit is {MAX_SOURCE_CHARS:,} characters" in response.content.decode()
    article.refresh_from_db()
    assert (article.title, article.version) != ("Changed", version + 1)
    assert article.title != "Changed"


def test_an_oversized_fix_keeps_the_article_unsaved_too(editor_client: Any) -> None:
    article = make_article()
    data = form_data(article, title="Changed", **{"fixes-1-body": "y" * (MAX_SOURCE_CHARS + 1)})
    response = editor_client.post(change_url(article), data)
    assert response.status_code == 200
    assert f"the limit is {MAX_SOURCE_CHARS:,} characters" in response.content.decode()
    article.refresh_from_db()
    assert article.title != "Changed"


def test_a_duplicate_slug_is_refused(editor_client: Any) -> None:
    make_article("taken")
    article = make_article("mine")
    response = editor_client.post(change_url(article), form_data(article, slug="taken"))
    assert "Another article already uses this slug" in response.content.decode()
    assert Article.objects.filter(slug="mine").exists()


def test_a_duplicate_fix_slug_is_refused(editor_client: Any) -> None:
    article = make_article()
    response = editor_client.post(
        change_url(article), form_data(article, **{"fixes-1-slug": "step-1"})
    )
    assert response.status_code == 200
    assert "Fix with this Article and Slug already exists." in response.content.decode()


def test_a_heading_without_an_id_gets_one_on_save_and_keeps_it(editor_client: Any) -> None:
    article = make_article()
    data = form_data(article, body="## Why it happens\n\nText.\n\n## Main\n\n## Kept {#kept}")
    response = editor_client.post(change_url(article), data)
    assert response.status_code == 302
    article.refresh_from_db()
    # "main" is the page's own landmark: the heading takes the next free id.
    assert article.body == (
        "## Why it happens {#why-it-happens}\n\nText.\n\n## Main {#main-2}\n\n## Kept {#kept}"
    )
    assert [h["id"] for h in article.headings] == ["why-it-happens", "main-2", "kept"]

    # Reworded later, the heading keeps the id links already point at.
    data = form_data(article, body=article.body.replace("Why it happens", "Why this happens"))
    assert editor_client.post(change_url(article), data).status_code == 302
    article.refresh_from_db()
    assert "## Why this happens {#why-it-happens}" in article.body


def test_a_fix_heading_without_an_id_gets_one_on_save(editor_client: Any) -> None:
    article = make_article()
    fix = article.fixes.first()
    assert fix is not None
    data = form_data(article, **{"fixes-0-body": "## Before you start\n\nSteps."})
    assert editor_client.post(change_url(article), data).status_code == 302
    fix.refresh_from_db()
    assert fix.body == "## Before you start {#before-you-start}\n\nSteps."


def test_an_image_from_another_site_or_without_a_description_is_refused(
    editor_client: Any,
) -> None:
    article = make_article()
    body = "![](/media/images/0123456789abcdef0123456789abcdef.png)\n\n![Logo](https://cdn.example/a.png)"
    html = editor_client.post(change_url(article), form_data(article, body=body)).content.decode()
    assert "Image 1 has no description" in html
    assert "Image 2 (&#x27;Logo&#x27;) is not from this site and will not show" in html
    article.refresh_from_db()
    assert "cdn.example" not in article.body


# --- Slugs ----------------------------------------------------------------------


def test_a_slug_changed_in_the_admin_keeps_the_old_url(editor_client: Any, client: Any) -> None:
    article = make_article("old-name")
    response = editor_client.post(change_url(article), form_data(article, slug="new-name"))
    assert response.status_code == 302
    assert SlugRedirect.objects.filter(article=article, old_slug="old-name").exists()
    client.logout()
    moved = client.get("/articles/old-name/")
    assert (moved.status_code, moved["Location"]) == (301, "/articles/new-name/")


# --- Scheduling -------------------------------------------------------------------


def test_a_scheduled_article_appears_when_its_time_comes(client: Any) -> None:
    call_command("createcachetable", verbosity=0)
    soon = timezone.now() + timedelta(minutes=5)
    make_article("visible")
    make_article("scheduled", published_at=soon)
    home_before = client.get("/")
    assert client.get("/articles/scheduled/").status_code == 404
    assert b"scheduled" not in client.get("/sitemap.xml").content
    assert b"/articles/scheduled/" not in client.get("/feed.atom").content

    # Time passes (the row itself is not saved: nobody acts).
    Article.objects.filter(slug="scheduled").update(
        published_at=timezone.now() - timedelta(seconds=1)
    )

    page = client.get("/articles/scheduled/")
    assert page.status_code == 200 and "max-age=60" in page["Cache-Control"]
    home_after = client.get("/", HTTP_IF_NONE_MATCH=home_before["ETag"])
    assert home_after.status_code == 200  # a cached copy is not revalidated as fresh
    assert home_after["ETag"] != home_before["ETag"]
    assert b"/articles/scheduled/" in home_after.content
    assert b"/articles/scheduled/" in client.get("/sitemap.xml").content
    assert b"/articles/scheduled/" in client.get("/feed.atom").content
    category = client.get("/categories/errors/")
    assert b"/articles/scheduled/" in category.content


def test_an_edit_changes_the_public_etag(editor_client: Any, client: Any) -> None:
    article = make_article()
    before = client.get(article.get_absolute_url())
    editor_client.post(change_url(article), form_data(article, summary="Now clearer."))
    after = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and b"Now clearer." in after.content


def test_it_builds_a_diff_that_escapes_nothing_itself() -> None:
    lines = diffs.diff_text("a\n<b>\nc", "a\n<i>\nc", context=2)
    assert [(line.kind, line.text) for line in lines if line.kind != "hunk"] == [
        ("same", "a"),
        ("del", "<b>"),
        ("ins", "<i>"),
        ("same", "c"),
    ]


def test_a_crlf_post_of_the_body_records_no_change_on_the_fixes(editor_client: Any) -> None:
    article = make_article()
    fix = article.fixes.first()
    assert fix is not None
    Fix.objects.filter(pk=fix.pk).update(body="A\nB")
    data = form_data(article, body=article.body + "\n\nNew paragraph.")
    crlf = {k: v.replace("\n", "\r\n") if isinstance(v, str) else v for k, v in data.items()}
    crlf["loaded_state"] = data["loaded_state"]
    response = editor_client.post(change_url(article), crlf)
    assert response.status_code == 302, response.content.decode()[:3000]
    article.refresh_from_db()
    assert "\r" not in article.body and article.body.endswith("New paragraph.")
    # Only the article's body changed: the admin's change message names nothing else.
    entry = LogEntry.objects.filter(object_id=str(article.pk)).latest("action_time")
    assert entry.get_change_message() == "Changed Body."
    assert Fix.objects.get(pk=fix.pk).body == "A\nB"


# --- Form polish -----------------------------------------------------------------


def test_the_change_form_has_plural_labels_wide_fields_and_a_summary_counter(
    editor_client: Any,
) -> None:
    article = make_article(status="draft")
    html = editor_client.get(change_url(article)).content.decode()
    heading = html.split('id="fixes-heading"', 1)[1].split("</h2>", 1)[0]
    assert "Fixes" in heading and "fixs" not in html.lower()
    assert 'name="title" value="Guide access-denied" class="vTextField editor-wide"' in html
    # The article's summary, each fix's and the "Add another" template's carry the
    # length the counter compares to.
    assert html.count('data-shown-chars="160"') == 1 + article.fixes.count() + 1
    assert "about the first 160 characters appear there" in html


def test_view_on_site_opens_a_drafts_preview_link_and_a_published_page(
    editor_client: Any,
) -> None:
    draft = make_article("draft-guide", status="draft")
    html = editor_client.get(change_url(draft)).content.decode()
    # The token is signed with a timestamp: read the one the page carries (a token made
    # here a second later would differ) and check that it opens this draft.
    found = re.search(r'href="/preview/([^/"]+)/" class="viewsitelink"', html)
    assert found, "View on site does not lead to a preview link"
    token = found.group(1)
    assert editing.article_for_preview(token) == draft
    # Each fix's link too. Tokens carry a timestamp in seconds: a render that spans a
    # second boundary signs the fix links a second later, so check what each opens.
    fix_tokens = re.findall(r'href="/preview/([^/"]+)/#fix-', html)
    assert fix_tokens
    assert all(editing.article_for_preview(t) == draft for t in fix_tokens)
    assert editor_client.get(f"/preview/{token}/").status_code == 200

    published = make_article("public-guide", status="published")
    html = editor_client.get(change_url(published)).content.decode()
    assert 'href="/articles/public-guide/" class="viewsitelink"' in html
    assert 'href="/articles/public-guide/fix/step-1/"' in html


def test_the_compare_page_uses_the_admins_own_breadcrumb_bar(editor_client: Any) -> None:
    article = make_article()
    for title in ("First title", "Second title"):
        editor_client.post(change_url(article), form_data(article, title=title))
        article.refresh_from_db()
    older, newer = Version.objects.get_for_object(article).order_by("pk")[:2]
    url = reverse("admin:helpcenter_article_compare", args=[article.pk])
    page = editor_client.get(url, {"a": older.pk, "b": newer.pk}).content.decode()
    # Django's admin styles an <ol class="breadcrumbs">; a bare div shows unstyled.
    assert '<ol class="breadcrumbs">' in page and '<li aria-current="page">Compare</li>' in page
    assert '<div class="breadcrumbs">' not in page
