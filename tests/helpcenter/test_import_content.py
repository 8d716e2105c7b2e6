"""The Markdown importer: the shipped content, idempotence, and refusing bad files whole."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import reversion
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from reversion.models import Version

from helpcenter import history
from helpcenter.management.commands.import_content import DEFAULT_PATH
from helpcenter.models import Article, Category, FaqEntry, Fix, SeededRow, SlugRedirect

pytestmark = pytest.mark.django_db

ARTICLE = """---
title: "A guide"
slug: {slug}
category: {category}
summary: "What it is about."
status: published
published_at: 2026-01-02T03:04:05Z
faq:
  - question: "Why?"
    answer: "Because."
---
Intro.

## First part {{#first-part}}

Text.
"""

FIX = """---
title: "{title}"
slug: {slug}
order: {order}
summary: "Do the thing."
---
Steps for {slug}.
"""


def _content(tmp_path: Path, *, slug: str = "a-guide", category: str = "errors") -> Path:
    root = tmp_path / "content"
    (root / "articles" / slug / "fixes").mkdir(parents=True)
    (root / "categories.yml").write_text("- slug: errors\n  title: Errors\n  order: 1\n")
    (root / "articles" / slug / "index.md").write_text(ARTICLE.format(slug=slug, category=category))
    for order, fix_slug in enumerate(["first-fix", "second-fix"], start=1):
        (root / "articles" / slug / "fixes" / f"0{order}-{fix_slug}.md").write_text(
            FIX.format(title=fix_slug.replace("-", " "), slug=fix_slug, order=order)
        )
    return root


def _snapshot() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for model in (Category, Article, Fix, FaqEntry, SlugRedirect):
        rows += [tuple(r.values()) for r in model.objects.order_by("pk").values()]
    return rows


def test_it_imports_the_shipped_content_cleanly() -> None:
    call_command("import_content")
    folders = [p for p in (DEFAULT_PATH / "articles").iterdir() if (p / "index.md").is_file()]
    assert Article.objects.count() == len(folders)
    guide = Article.objects.get(slug="chatgpt-access-denied-1020")
    assert guide.category is not None and guide.category.slug == "cloudflare-errors"
    assert guide.fixes.count() == 7
    assert list(guide.fixes.values_list("order", flat=True)) == [1, 2, 3, 4, 5, 6, 7]
    assert guide.faq.count() == 6
    assert guide.related.filter(slug="is-chatgpt-down").exists()
    assert guide.headings and guide.headings[0]["id"] == "what-the-error-means"


def test_it_changes_nothing_when_run_again() -> None:
    call_command("import_content")
    before = _snapshot()
    call_command("import_content")
    assert _snapshot() == before  # every updated_at included


def test_it_updates_a_changed_fix_and_leaves_the_rest_alone(tmp_path: Path) -> None:
    root = _content(tmp_path)
    call_command("import_content", str(root))
    article = Article.objects.get(slug="a-guide")
    first, second = article.fixes.all()
    fix_file = root / "articles/a-guide/fixes/02-second-fix.md"
    fix_file.write_text(fix_file.read_text().replace("Steps for", "New steps for"))

    call_command("import_content", str(root))

    assert Article.objects.get(pk=article.pk).updated_at == article.updated_at
    assert Fix.objects.get(pk=first.pk).updated_at == first.updated_at
    assert Fix.objects.get(pk=second.pk).body.startswith("New steps")


def test_it_syncs_fixes_and_faq_to_exactly_the_files(tmp_path: Path) -> None:
    root = _content(tmp_path)
    call_command("import_content", str(root))
    (root / "articles/a-guide/fixes/02-second-fix.md").unlink()
    index = root / "articles/a-guide/index.md"
    index.write_text(
        index.read_text().replace('  - question: "Why?"\n    answer: "Because."\n', "")
    )

    call_command("import_content", str(root))

    article = Article.objects.get(slug="a-guide")
    assert list(article.fixes.values_list("slug", flat=True)) == ["first-fix"]
    assert not article.faq.exists()


def test_it_leaves_articles_that_are_not_in_the_files_alone(tmp_path: Path) -> None:
    keep = Article.objects.create(title="Written in the admin", slug="admin-only")
    call_command("import_content", str(_content(tmp_path)))
    assert Article.objects.filter(pk=keep.pk).exists()


def test_a_fix_renamed_in_the_files_keeps_its_old_url(tmp_path: Path) -> None:
    root = _content(tmp_path)
    call_command("import_content", str(root))
    fix = Fix.objects.get(slug="second-fix")
    old = root / "articles/a-guide/fixes/02-second-fix.md"
    new = old.with_name("02-better-name.md")
    new.write_text(old.read_text().replace("slug: second-fix", "slug: better-name"))
    old.unlink()

    call_command("import_content", str(root))

    assert Fix.objects.get(pk=fix.pk).slug == "better-name"
    assert SlugRedirect.objects.filter(fix=fix, old_slug="second-fix").exists()


def _assert_refused(root: Path, path_part: str, message: str, line: int | None = None) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("import_content", str(root))
    text = str(caught.value)
    assert path_part in text
    assert message in text
    if line is not None:
        assert f"{path_part}:{line}:" in text
    assert _snapshot() == []  # nothing written, not even the categories


def test_it_names_file_and_line_for_invalid_yaml(tmp_path: Path) -> None:
    root = _content(tmp_path)
    index = root / "articles/a-guide/index.md"
    index.write_text(index.read_text().replace("status: published", "status: published: twice"))
    assert index.read_text().splitlines()[5].startswith("status:")  # line 6 of the file
    _assert_refused(root, "a-guide/index.md", "invalid YAML front matter", line=6)


@pytest.mark.parametrize(
    ("edit", "target", "message"),
    [
        (('title: "A guide"\n', ""), "index.md", "missing required front matter: title"),
        (("slug: a-guide", "slug: A_Guide!"), "index.md", "bad slug"),
        (("category: errors", "category: nowhere"), "index.md", "unknown category"),
        (("Text.\n", "Text.\n\n## No id here\n"), "index.md", "heading without an explicit id"),
    ],
)
def test_it_refuses_a_bad_article_and_writes_nothing(
    tmp_path: Path, edit: tuple[str, str], target: str, message: str
) -> None:
    root = _content(tmp_path)
    index = root / "articles/a-guide/index.md"
    index.write_text(index.read_text().replace(*edit))
    _assert_refused(root, f"a-guide/{target}", message)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("categories.yml", "slug: errors\n", "must be a list of categories"),
        ("categories.yml", "- slug: errors\n", "category #1 needs at least slug and title"),
        ("categories.yml", f"- slug: {'e' * 51}\n  title: E\n", "category #1: bad slug"),
        ("services.yml", "- slug: Bad Slug\n  name: X\n", "service #1: bad slug"),
        ("services.yml", "- name: X\n", "service #1 needs at least slug and name"),
        ("services.yml", "- [unclosed\n", "invalid YAML"),
    ],
)
def test_it_refuses_a_bad_list_of_categories_or_services(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    root = _content(tmp_path)
    (root / name).write_text(text)
    _assert_refused(root, name, message)


def test_it_gives_the_line_of_a_heading_without_an_id(tmp_path: Path) -> None:
    root = _content(tmp_path)
    index = root / "articles/a-guide/index.md"
    index.write_text(index.read_text() + "\n## No id here\n")
    lines = index.read_text().splitlines()
    _assert_refused(root, "a-guide/index.md", "heading", lines.index("## No id here") + 1)


def test_it_refuses_a_body_over_the_size_limit(tmp_path: Path) -> None:
    from helpcenter.markdown import MAX_SOURCE_CHARS

    root = _content(tmp_path)
    fix = root / "articles/a-guide/fixes/01-first-fix.md"
    fix.write_text(fix.read_text() + "x" * (MAX_SOURCE_CHARS + 1))
    _assert_refused(root, "01-first-fix.md", "too large")


def test_it_refuses_duplicate_fix_slugs(tmp_path: Path) -> None:
    root = _content(tmp_path)
    fixes = root / "articles/a-guide/fixes"
    shutil.copy(fixes / "01-first-fix.md", fixes / "03-copy.md")
    _assert_refused(root, "03-copy.md", "duplicate fix slug")


def test_it_refuses_duplicate_article_slugs(tmp_path: Path) -> None:
    root = _content(tmp_path)
    shutil.copytree(root / "articles/a-guide", root / "articles/b-guide")
    _assert_refused(root, "b-guide/index.md", "duplicate article slug")


def test_a_later_bad_file_rolls_back_earlier_good_ones(tmp_path: Path) -> None:
    root = _content(tmp_path)
    # Sorted after a-guide, read fine, but names a related guide nobody wrote:
    # found only while writing, after a-guide's rows were already saved.
    other = root / "articles/b-guide"
    shutil.copytree(root / "articles/a-guide", other)
    text = (other / "index.md").read_text().replace("slug: a-guide", "slug: b-guide")
    (other / "index.md").write_text(text.replace("faq:", "related: [missing-guide]\nfaq:"))
    _assert_refused(root, "b-guide/index.md", "related article 'missing-guide'")


# --- The starter-data policy: update unless edited ----------------------------------


def _import(*args: str) -> str:
    out = io.StringIO()
    call_command("import_content", *args, stdout=out)
    return out.getvalue()


def _edit_in_revision(
    obj: Article | Fix | FaqEntry, user: User | None = None, **values: str
) -> None:
    """An edit as the admin saves it: inside a revision, with the editor as its user."""
    with reversion.create_revision():
        if user is not None:
            reversion.set_user(user)
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()


def _change_files(root: Path) -> None:
    """A new starter version: the guide's body, its first fix and its FAQ answer change."""
    index = root / "articles/a-guide/index.md"
    index.write_text(
        index.read_text().replace("Text.", "Better text.").replace("Because.", "Because so.")
    )
    fix = root / "articles/a-guide/fixes/01-first-fix.md"
    fix.write_text(fix.read_text().replace("Steps for", "Newer steps for"))


@pytest.fixture
def editor() -> User:
    return User.objects.create_user("editor", password="pw", is_staff=True)


def test_an_unedited_article_fix_and_faq_take_the_new_starter_text(tmp_path: Path) -> None:
    root = _content(tmp_path)
    _import(str(root))
    _change_files(root)

    output = _import(str(root))

    article = Article.objects.get(slug="a-guide")
    assert "Better text." in article.body
    assert article.fixes.get(slug="first-fix").body == "Newer steps for first-fix."
    assert article.faq.get().answer == "Because so."
    assert "Kept" not in output and "3 updated" in output
    # The new text counts as seeded: the next change of the files is taken too.
    fix = root / "articles/a-guide/fixes/01-first-fix.md"
    fix.write_text(fix.read_text().replace("Newer", "Newest"))
    _import(str(root))
    assert article.fixes.get(slug="first-fix").body == "Newest steps for first-fix."


def test_an_edited_article_fix_and_faq_are_kept_and_named(tmp_path: Path, editor: User) -> None:
    root = _content(tmp_path)
    _import(str(root))
    article = Article.objects.get(slug="a-guide")
    fix = article.fixes.get(slug="first-fix")
    _edit_in_revision(article, editor, body="My own intro.")
    _edit_in_revision(fix, editor, body="My own steps.")
    _edit_in_revision(article.faq.get(), editor, answer="My answer.")
    _change_files(root)

    output = _import(str(root))

    assert "Kept your edit of A guide." in output
    assert "Kept your edit of fix “first fix” in A guide." in output
    assert "Kept your edit of FAQ “Why?” in A guide." in output
    assert "import_content --overwrite" in output
    article.refresh_from_db()
    assert article.body == "My own intro."
    assert article.fixes.get(slug="first-fix").body == "My own steps."
    assert article.faq.get().answer == "My answer."
    # Nothing was written, so the editor's version is still the newest in history.
    assert history.versions_for(article).first().revision.user == editor  # type: ignore[union-attr]


def test_an_edit_reverted_to_the_starter_text_counts_as_unedited(tmp_path: Path) -> None:
    root = _content(tmp_path)
    _import(str(root))
    fix = Fix.objects.get(slug="first-fix")
    original = fix.body
    _edit_in_revision(fix, body="Changed.")
    _edit_in_revision(fix, body=original)
    _change_files(root)
    _import(str(root))
    assert Fix.objects.get(pk=fix.pk).body == "Newer steps for first-fix."


def test_overwrite_lists_the_edits_then_replaces_them(tmp_path: Path, editor: User) -> None:
    root = _content(tmp_path)
    _import(str(root))
    article = Article.objects.get(slug="a-guide")
    fix = article.fixes.get(slug="second-fix")
    _edit_in_revision(article, editor, title="My title")
    _edit_in_revision(fix, editor, body="My own steps.")
    _change_files(root)

    planned = _import(str(root), "--overwrite", "--dry-run")
    assert "Would replace 2 edits" in planned
    assert Article.objects.get(pk=article.pk).title == "My title"  # a dry run changes nothing

    output = _import(str(root), "--overwrite")

    listing, _, rest = output.partition("(Each replaced version stays in the history")
    assert "Replacing 2 edits with the files' version:" in listing
    assert "  - My title\n" in listing
    assert "  - fix “second fix” in My title\n" in listing
    assert "Imported 1 articles" in rest
    article.refresh_from_db()
    assert article.title == "A guide" and "Better text." in article.body
    assert Fix.objects.get(pk=fix.pk).body == "Steps for second-fix."
    # The replaced edit stays in history, one version below the import.
    newest, below = history.versions_for(article)[:2]
    assert newest.revision.get_comment() == "import from files (replacing edits)"
    assert below.revision.user == editor and below.field_dict["title"] == "My title"
    # Replaced text counts as seeded again: a plain import now changes nothing.
    assert "Kept" not in _import(str(root))


def test_a_fix_an_editor_deleted_or_added_stays_so(tmp_path: Path, editor: User) -> None:
    root = _content(tmp_path)
    _import(str(root))
    article = Article.objects.get(slug="a-guide")
    article.fixes.get(slug="second-fix").delete()
    Fix.objects.create(article=article, title="Mine", slug="mine", order=3, body="Mine.")

    output = _import(str(root))

    assert "Kept your deletion of fix “second fix” in A guide." in output
    assert list(article.fixes.values_list("slug", flat=True)) == ["first-fix", "mine"]
    _import(str(root), "--overwrite")
    assert list(article.fixes.values_list("slug", flat=True)) == ["first-fix", "second-fix", "mine"]


def test_a_fix_gone_from_the_files_is_removed_only_if_unedited(tmp_path: Path) -> None:
    root = _content(tmp_path)
    _import(str(root))
    _edit_in_revision(Fix.objects.get(slug="second-fix"), body="My own steps.")
    (root / "articles/a-guide/fixes/02-second-fix.md").unlink()
    (root / "articles/a-guide/fixes/01-first-fix.md").unlink()

    output = _import(str(root))

    assert list(Fix.objects.values_list("slug", flat=True)) == ["second-fix"]
    assert (
        "Kept your edit of fix “second fix” in A guide, which the files no longer have." in output
    )


def test_an_article_renamed_by_an_editor_is_found_and_kept(tmp_path: Path, editor: User) -> None:
    root = _content(tmp_path)
    _import(str(root))
    article = Article.objects.get(slug="a-guide")
    _edit_in_revision(article, editor, slug="my-guide")

    output = _import(str(root))

    assert "Kept your edit of A guide." in output
    assert list(Article.objects.values_list("slug", flat=True)) == ["my-guide"]


def test_an_article_an_editor_deleted_is_not_recreated(tmp_path: Path) -> None:
    root = _content(tmp_path)
    _import(str(root))
    Article.objects.get(slug="a-guide").delete()
    output = _import(str(root))
    assert "Kept your deletion of A guide." in output
    assert not Article.objects.exists()


# Databases seeded before digests were kept: history decides, and an edit is never lost.


def _forget_digests() -> None:
    SeededRow.objects.filter(kind__in=["article", "fix", "faq", "category"]).delete()
    SeededRow.objects.filter(kind="article-related").delete()


def test_an_old_row_still_as_imported_takes_the_new_text(tmp_path: Path) -> None:
    root = _content(tmp_path)
    _import(str(root))
    _forget_digests()
    _change_files(root)
    output = _import(str(root))
    assert "Kept" not in output
    assert "Better text." in Article.objects.get(slug="a-guide").body
    assert Fix.objects.get(slug="first-fix").body == "Newer steps for first-fix."


def test_an_old_row_with_an_editors_revision_is_kept(tmp_path: Path, editor: User) -> None:
    root = _content(tmp_path)
    _import(str(root))
    _edit_in_revision(Fix.objects.get(slug="first-fix"), editor, body="My own steps.")
    _forget_digests()
    _change_files(root)
    output = _import(str(root))
    assert "Kept your edit of fix “first fix” in A guide." in output
    assert Fix.objects.get(slug="first-fix").body == "My own steps."
    assert "Better text." in Article.objects.get(slug="a-guide").body  # unedited: updated


def test_an_old_row_without_history_is_kept_unless_it_equals_the_files(tmp_path: Path) -> None:
    root = _content(tmp_path)
    _import(str(root))
    _forget_digests()
    Version.objects.all().delete()
    # Changed behind history's back (a shell, an old admin): no proof it is unedited.
    Fix.objects.filter(slug="second-fix").update(body="Changed somehow.")
    _change_files(root)

    output = _import(str(root))

    assert "Kept your edit of fix “second fix” in A guide." in output
    assert "Kept your edit of A guide." in output  # differs from the files, no history
    assert Fix.objects.get(slug="second-fix").body == "Changed somehow."
    assert not SeededRow.objects.filter(kind="fix", key="a-guide/second-fix").exists()
    # A row equal to the files gets its digest now, so later file changes reach it.
    assert SeededRow.objects.filter(kind="category", key="errors").exists()


# No phantom changes: one spelling of text, no empty revisions.


def test_crlf_and_trailing_blank_lines_in_files_are_not_changes(tmp_path: Path) -> None:
    root = _content(tmp_path)
    for path in root.rglob("*.md"):
        path.write_bytes(path.read_text().replace("\n", "\r\n").encode() + b"\r\n\r\n")
    _import(str(root))
    article = Article.objects.get(slug="a-guide")
    assert "\r" not in article.body and not article.body.endswith("\n")
    versions = Version.objects.count()
    before = _snapshot()

    output = _import(str(root))

    assert _snapshot() == before and Version.objects.count() == versions
    assert "0 created, 0 updated" in output
