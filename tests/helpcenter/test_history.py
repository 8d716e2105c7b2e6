"""Revision history: versions on every save, readable diffs, restores that check first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import reversion
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from reversion.models import Version

from helpcenter import diffs, history
from helpcenter.management.commands.import_content import DEFAULT_PATH
from helpcenter.models import Article, Category, FaqEntry, Fix, SlugRedirect
from tests.helpcenter.admin_forms import as_browser_sends, change_url, form_data
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser("alice", "alice@example.com", "pw")


@pytest.fixture
def admin_client(admin_user: User, collected_static: None) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _saved(user: User | None, change: Callable[[], Any], comment: str = "") -> None:
    """Save like the admin does: inside a revision with the user."""
    with reversion.create_revision():
        if user is not None:
            reversion.set_user(user)
        reversion.set_comment(comment)
        change()


def _edit(article: Article, **values: Any) -> None:
    for name, value in values.items():
        setattr(article, name, value)
    article.save()


@pytest.fixture
def article_with_history(admin_user: User) -> tuple[Article, Version, Version]:
    """v1: three fixes, two FAQ; v2: body and a fix changed, a fix removed, a fix and FAQ added."""
    with reversion.create_revision():
        reversion.set_user(admin_user)
        article = make_article("history-guide")
    v1 = history.versions_for(article).get()

    def change() -> None:
        _edit(article, body=article.body + "\n\nA new paragraph.", title="Guide <renamed>")
        fix = article.fixes.get(slug="step-1")
        fix.title = "Try step one first"
        fix.save()
        article.fixes.get(slug="step-3").delete()
        Fix.objects.create(article=article, title="Brand new", slug="brand-new", order=9)
        FaqEntry.objects.create(article=article, question="Later?", answer="Yes.", order=5)

    _saved(admin_user, change, "Second pass")
    v2 = history.versions_for(article).first()
    assert v2 is not None and v2 != v1
    return article, v1, v2


def test_the_importer_saves_one_revision_named_for_it() -> None:
    call_command("import_content", str(DEFAULT_PATH))
    article = Article.objects.get(slug="chatgpt-access-denied-1020")
    version = history.versions_for(article).get()
    assert version.revision.get_comment() == "import from files"
    assert version.revision.user is None
    # Its fixes and FAQ are in the same revision (followed).
    kinds = {v.content_type.model for v in version.revision.version_set.all()}
    assert {"article", "fix", "faqentry", "category"} <= kinds
    # Importing the same files again changes nothing, so no empty revision either.
    call_command("import_content", str(DEFAULT_PATH))
    assert history.versions_for(article).count() == 1


def test_a_fix_changed_by_the_importer_shows_in_its_articles_history(tmp_path: Any) -> None:
    import shutil

    root = tmp_path / "content"
    shutil.copytree(DEFAULT_PATH, root)
    call_command("import_content", str(root))
    fix_file = next((root / "articles" / "is-chatgpt-down" / "fixes").glob("01-*.md"))
    fix_file.write_text(fix_file.read_text() + "\nOne more line.\n")
    call_command("import_content", str(root))
    article = Article.objects.get(slug="is-chatgpt-down")
    newer, older = history.versions_for(article)[:2]
    comparison = history.compare(older, newer)
    assert [c.state for c in comparison.children] == ["changed"]
    assert comparison.children[0].fields[0].name == "body"


def test_an_admin_save_keeps_a_version_with_its_user(admin_client: Client) -> None:
    category = Category.objects.create(slug="errors", title="Errors")
    url = reverse("admin:helpcenter_category_change", args=[category.pk])
    response = admin_client.post(
        url, {"slug": "errors", "title": "Error pages", "description": "", "order": 2}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    version = history.versions_for(category).get()
    assert version.revision.user is not None
    assert version.revision.user.get_username() == "alice"
    assert version.field_dict["title"] == "Error pages"


def test_the_history_page_lists_versions_with_compare_and_restore(
    admin_client: Client, article_with_history: tuple[Article, Version, Version]
) -> None:
    article, v1, _ = article_with_history
    response = admin_client.get(reverse("admin:helpcenter_article_history", args=[article.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Second pass" in page
    assert page.count('name="a"') == 2
    assert reverse("admin:helpcenter_article_restore", args=[article.pk, v1.pk]) in page
    assert "alice" in page


def test_compare_shows_a_field_by_field_diff_with_fixes_and_faq(
    admin_client: Client, article_with_history: tuple[Article, Version, Version]
) -> None:
    article, v1, v2 = article_with_history
    url = reverse("admin:helpcenter_article_compare", args=[article.pk])
    response = admin_client.get(url, {"a": v1.pk, "b": v2.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<ins>A new paragraph.</ins>" in page
    # Values are escaped, never rendered as markup.
    assert "&lt;renamed&gt;" in page and "<renamed>" not in page
    assert "Fix added: " in page and "Brand new" in page
    assert "Fix removed: " in page and "Try step 3" in page
    assert "Fix changed: " in page and "<del>1</del><ins>one first</ins>" in page
    assert "FAQ entry added: Later?" in page
    # The same pair in either order compares oldest to newest.
    again = admin_client.get(url, {"a": v2.pk, "b": v1.pk})
    assert "<ins>A new paragraph.</ins>" in again.content.decode()


def test_compare_needs_two_versions_of_this_object(
    admin_client: Client, article_with_history: tuple[Article, Version, Version]
) -> None:
    article, v1, _ = article_with_history
    other = make_article("other-guide")
    with reversion.create_revision():
        other.save()
    foreign = history.versions_for(other).get()
    url = reverse("admin:helpcenter_article_compare", args=[article.pk])
    response = admin_client.get(url, {"a": v1.pk, "b": foreign.pk})
    assert response.status_code == 302
    assert response["Location"].endswith("/history/")


def test_diff_text_marks_words_and_lines() -> None:
    (line,) = diffs.diff_text("Turn the VPN off", "Turn the VPN on")
    assert [(s.kind, s.text) for s in line.segments][-2:] == [("del", "off"), ("ins", "on")]
    lines = diffs.diff_text("a\nb\nc\n", "a\nB\nc\nd\n")
    kinds = [line.kind for line in lines]
    assert kinds[0] == "hunk" and "del" in kinds and "ins" in kinds


def test_restoring_brings_back_the_article_its_fixes_and_faq(
    admin_client: Client, admin_user: User, article_with_history: tuple[Article, Version, Version]
) -> None:
    article, v1, v2 = article_with_history
    # The optimistic-locking counter (helpcenter/editing.py), where the model has it.
    lock_before = getattr(Article.objects.get(pk=article.pk), "version", None)
    url = reverse("admin:helpcenter_article_restore", args=[article.pk, v1.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and "What restoring changes" in confirm.content.decode()

    response = admin_client.post(url)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Guide history-guide"
    assert "A new paragraph" not in article.body and "A new paragraph" not in article.body_html
    assert list(article.fixes.values_list("slug", "title")) == [
        ("step-1", "Try step 1"),
        ("step-2", "Try step 2"),
        ("step-3", "Try step 3"),
    ]
    assert "Do **step 3**." in article.fixes.get(slug="step-3").body
    assert article.fixes.get(slug="step-3").body_html  # rendered again by save()
    assert list(article.faq.values_list("question", flat=True)) == ["Question 1?", "Question 2?"]
    # The lock counter moves on, so a form opened before the restore is stale.
    if lock_before is not None:
        assert article.version > lock_before  # type: ignore[attr-defined]

    newest = history.versions_for(article).first()
    assert newest is not None and newest.pk not in (v1.pk, v2.pk)
    comment = newest.revision.get_comment()
    assert comment.startswith("Restored version from ") and comment.endswith(" by alice")
    assert newest.revision.user == admin_user
    # Restoring is a revision like any other: restore v2 again from it.
    history.restore(Version.objects.get(pk=v2.pk), admin_user)
    article.refresh_from_db()
    assert article.title == "Guide <renamed>"
    assert set(article.fixes.values_list("slug", flat=True)) == {"step-1", "step-2", "brand-new"}


def test_restoring_an_old_slug_keeps_the_current_url_working(admin_user: User) -> None:
    with reversion.create_revision():
        article = make_article("first-name")
    v1 = history.versions_for(article).get()
    _saved(admin_user, lambda: _edit(article, slug="second-name"))
    history.restore(v1, admin_user)
    article.refresh_from_db()
    assert article.slug == "first-name"
    assert SlugRedirect.objects.filter(article=article, old_slug="second-name").exists()


def test_restoring_a_slug_now_taken_names_it_and_changes_nothing(
    admin_client: Client, admin_user: User
) -> None:
    with reversion.create_revision():
        article = make_article("shared-name")
    v1 = history.versions_for(article).get()
    _saved(admin_user, lambda: _edit(article, slug="moved-away", title="Moved"))
    rival = make_article("shared-name")
    rival.title = "The rival guide"
    rival.save()
    before = Article.objects.values().get(pk=article.pk)
    fixes_before = list(Fix.objects.filter(article=article).values())

    with pytest.raises(history.RestoreError, match=r"“shared-name”.*“The rival guide”"):
        history.restore(v1, admin_user)

    url = reverse("admin:helpcenter_article_restore", args=[article.pk, v1.pk])
    response = admin_client.post(url)
    assert response.status_code == 409
    assert "shared-name" in response.content.decode()
    assert "The rival guide" in response.content.decode()
    assert Article.objects.values().get(pk=article.pk) == before
    assert list(Fix.objects.filter(article=article).values()) == fixes_before
    assert history.versions_for(article).count() == 2


def test_restoring_one_article_leaves_the_rest_of_its_revision_alone(admin_user: User) -> None:
    call_command("import_content", str(DEFAULT_PATH))
    first = Article.objects.get(slug="is-chatgpt-down")
    other = Article.objects.get(slug="chatgpt-access-denied-1020")
    imported = history.versions_for(first).get()
    _saved(admin_user, lambda: _edit(first, title="Edited title"))
    _saved(admin_user, lambda: _edit(other, title="Other edited"))
    history.restore(imported, admin_user)
    first.refresh_from_db()
    other.refresh_from_db()
    assert first.title == "Is ChatGPT down? How to check"
    assert other.title == "Other edited"


def test_restoring_a_version_whose_category_is_gone_is_refused(admin_user: User) -> None:
    doomed = Category.objects.create(slug="doomed", title="Doomed")
    with reversion.create_revision():
        article = make_article("orphan", category=doomed)
    v1 = history.versions_for(article).get()
    doomed.delete()
    with pytest.raises(history.RestoreError, match=r"category.*deleted"):
        history.restore(v1, admin_user)


def test_an_editor_without_change_rights_cannot_restore(
    article_with_history: tuple[Article, Version, Version], collected_static: None
) -> None:
    article, v1, _ = article_with_history
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    client = Client()
    client.force_login(clerk)
    url = reverse("admin:helpcenter_article_restore", args=[article.pk, v1.pk])
    assert client.post(url).status_code == 403
    assert Article.objects.get(pk=article.pk).title == "Guide <renamed>"


def test_reversions_own_revert_screen_leads_to_ours(
    admin_client: Client, article_with_history: tuple[Article, Version, Version]
) -> None:
    article, v1, _ = article_with_history
    response = admin_client.get(
        reverse("admin:helpcenter_article_revision", args=[article.pk, v1.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:helpcenter_article_restore", args=[article.pk, v1.pk]
    )


def test_a_deleted_article_can_be_recovered_with_its_fixes(
    admin_client: Client, admin_user: User
) -> None:
    with reversion.create_revision():
        article = make_article("deleted-guide")
    pk = article.pk
    article.delete()
    (version,) = Version.objects.get_deleted(Article)
    response = admin_client.post(reverse("admin:helpcenter_article_recover", args=[version.pk]))
    assert response.status_code == 302
    restored = Article.objects.get(pk=pk)
    assert restored.fixes.count() == 3 and restored.faq.count() == 2


def test_a_rule_keeps_its_fixes_in_its_history(admin_client: Client, admin_user: User) -> None:
    from diagnostics.models import Rule, RuleFix, Target

    article = make_article("rule-guide", fixes=3)
    first, second, third = article.fixes.order_by("order")
    with reversion.create_revision():
        rule = Rule.objects.create(name="Blocked", code="blocked-1020", headline="Blocked")
        RuleFix.objects.create(rule=rule, fix=first, position=1)
        RuleFix.objects.create(rule=rule, fix=second, position=2)
    v1 = history.versions_for(rule).get()

    def change() -> None:
        rule.headline = "Blocked by a firewall rule"
        rule.save()
        RuleFix.objects.filter(rule=rule, fix=second).delete()
        RuleFix.objects.create(rule=rule, fix=third, position=3)

    _saved(admin_user, change)
    page = admin_client.get(
        reverse("admin:diagnostics_rule_compare", args=[rule.pk]),
        {"a": v1.pk, "b": history.versions_for(rule).first().pk},  # type: ignore[union-attr]
    ).content.decode()
    assert "<ins>by a firewall rule</ins>" in page or "by a firewall rule</ins>" in page
    assert "Rule fix removed" in page.replace("rule fix", "Rule fix")

    history.restore(v1, admin_user)
    assert list(rule.rule_fixes.values_list("fix_id", flat=True)) == [first.pk, second.pk]
    # Check targets are versioned through their admin as well.
    target = Target.objects.create(name="Site", slug="site", url="https://example.com/")
    response = admin_client.get(reverse("admin:diagnostics_target_history", args=[target.pk]))
    assert response.status_code == 200


# --- No phantom changes ------------------------------------------------------------


def _post_change_form(client: Client, article: Article, **changes: Any) -> None:
    data = as_browser_sends(form_data(article, **changes))
    response = client.post(change_url(article), data)
    assert response.status_code == 302, response.content.decode()[:3000]


def test_saving_an_unchanged_form_records_no_version(
    admin_client: Client, admin_user: User
) -> None:
    with reversion.create_revision():
        article = make_article("unchanged")
    # Stored before text was normalised: a browser posts it back in another spelling.
    Fix.objects.filter(article=article, slug="step-1").update(body="Line one.\r\nLine two.\r\n")
    before = Version.objects.count()

    _post_change_form(admin_client, article)

    entry = LogEntry.objects.filter(object_id=str(article.pk)).latest("action_time")
    assert entry.get_change_message() == "No fields changed."
    assert Version.objects.count() == before


def test_a_body_edit_shows_in_compare_as_the_only_change(admin_client: Client) -> None:
    article = make_article("one-change")
    # A fix stored before text was normalised, and whole seconds as the admin's
    # date and time boxes (and every imported time) hold them.
    Fix.objects.filter(article=article, slug="step-2").update(body="Do **step 2**.\r\n\r\n")
    assert article.published_at is not None
    Article.objects.filter(pk=article.pk).update(
        published_at=article.published_at.replace(microsecond=0)
    )
    with reversion.create_revision():
        reversion.add_to_revision(Article.objects.get(pk=article.pk))

    _post_change_form(admin_client, article, body=article.body + "\n\nOne more line.")

    newer, older = history.versions_for(article)[:2]
    comparison = history.compare(older, newer)
    assert [f.name for f in comparison.fields] == ["body"]
    assert comparison.children == []  # no "fix changed" section for untouched fixes


def test_compare_ignores_a_difference_of_line_endings_only(admin_user: User) -> None:
    with reversion.create_revision():
        article = make_article("old-spelling")
    # A version written before the models normalised text, holding CRLF.
    Article.objects.filter(pk=article.pk).update(body="Intro.\r\n\r\nMore.\r\n")
    with reversion.create_revision():
        reversion.add_to_revision(Article.objects.get(pk=article.pk))
    _saved(admin_user, lambda: _edit(Article.objects.get(pk=article.pk), body="Intro.\n\nMore."))
    newer, older = history.versions_for(article)[:2]
    assert "\r" in older.field_dict["body"]
    assert history.compare(older, newer).unchanged
