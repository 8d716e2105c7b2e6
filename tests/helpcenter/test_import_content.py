"""The Markdown importer: the shipped content, idempotence, and refusing bad files whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from helpcenter.management.commands.import_content import DEFAULT_PATH
from helpcenter.models import Article, Category, FaqEntry, Fix, SlugRedirect

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
