"""export_content: files the importer reads back unchanged, and a byte-stable round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection

from helpcenter.management.commands import import_content
from helpcenter.management.commands.import_content import DEFAULT_PATH
from helpcenter.models import Article, Category, FaqEntry, Fix, SeededRow, SlugRedirect

pytestmark = pytest.mark.django_db


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _wipe() -> None:
    """A fresh database as far as the knowledge base is concerned."""
    # Without its records of what was imported: else the next import would
    # read the emptied tables as an editor's deletions and keep them empty.
    SeededRow.objects.all().delete()
    SlugRedirect.objects.all().delete()
    Article.objects.all().delete()
    Category.objects.all().delete()


def _awkward_article() -> Article:
    """Values that trip naive YAML: quotes, colons, yes/no slugs, CRLF, odd whitespace."""
    category = Category.objects.create(
        slug="yes", title='Odd: "quoted" #title', description="Line one\nline two", order=7
    )
    other = Article.objects.create(title="Other", slug="null", category=category, status="draft")
    article = Article.objects.create(
        title="Error: 1020 — “access denied” # not a comment",
        slug="awkward-1020",
        category=category,
        summary="",
        body="\r\n  Intro with CRLF.\r\n\r\n## Part {#part}\r\n\r\n    code block\r\n\r\n---\r\n",
        status="published",
        published_at=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    )
    article.related.set([other])
    Fix.objects.create(article=article, title="Second", slug="second", order=20, body="B.")
    Fix.objects.create(article=article, title="First: try it", slug="true", order=10, body="")
    FaqEntry.objects.create(
        article=article,
        question=" Why? ",
        answer="Line one.\n\n  indented line\nlast line with tab\t",
        order=1,
    )
    FaqEntry.objects.create(article=article, question="Odd\u2028break?", answer="a\u0085b", order=2)
    FaqEntry.objects.create(
        article=article, question="Tab first", answer="\tstarts with tab", order=3
    )
    return article


def test_it_round_trips_byte_for_byte(tmp_path: Path) -> None:
    _awkward_article()
    call_command("import_content", str(DEFAULT_PATH))
    first, second = tmp_path / "a", tmp_path / "b"
    call_command("export_content", str(first))

    _wipe()
    call_command("import_content", str(first))
    call_command("export_content", str(second))

    a, b = _files(first), _files(second)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    assert all(content.endswith(b"\n") for content in a.values())
    assert "articles/awkward-1020/fixes/01-true.md" in a
    assert "articles/awkward-1020/fixes/02-second.md" in a


def test_it_keeps_awkward_values(tmp_path: Path) -> None:
    _awkward_article()
    call_command("export_content", str(tmp_path))
    _wipe()
    call_command("import_content", str(tmp_path))
    article = Article.objects.get(slug="awkward-1020")
    assert article.title == "Error: 1020 — “access denied” # not a comment"
    assert article.category is not None and article.category.slug == "yes"
    assert article.category.description == "Line one\nline two"
    assert article.published_at == datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert article.body.startswith("Intro with CRLF.\n\n## Part {#part}\n\n    code block")
    assert [f.slug for f in article.fixes.all()] == ["true", "second"]
    assert [f.order for f in article.fixes.all()] == [10, 20]
    assert list(article.related.values_list("slug", flat=True)) == ["null"]
    faq = list(article.faq.all())
    assert faq[0].question == "Why?"
    assert faq[0].answer == "Line one.\n\n  indented line\nlast line with tab"
    assert faq[1].question == "Odd\u2028break?"
    assert faq[1].answer == "a\u0085b"
    assert faq[2].answer == "starts with tab"


def test_it_writes_the_date_and_key_order_once_and_for_all(tmp_path: Path) -> None:
    _awkward_article()
    call_command("export_content", str(tmp_path))
    text = (tmp_path / "articles/awkward-1020/index.md").read_text()
    keys = [
        line.split(":")[0] for line in text.split("---\n")[1].splitlines() if line[:1].isalpha()
    ]
    assert keys == [
        "title",
        "slug",
        "category",
        "summary",
        "status",
        "published_at",
        "related",
        "faq",
    ]
    assert "published_at: 2026-03-04T05:06:07.891011Z\n" in text
    draft = (tmp_path / "articles/null/index.md").read_text()
    assert "published_at" not in draft


def _read_all(root: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """What the importer makes of a content folder, without file paths."""
    categories = import_content._read_list(root / "categories.yml", Category, ("slug", "title"))
    articles: list[dict[str, object]] = []
    for folder in import_content._article_dirs(root):
        data = import_content._read_article(folder)
        fixes = [
            (f.title, f.slug, f.order, f.summary, f.body, f.ask_if_it_worked) for f in data.fixes
        ]
        articles.append(
            {
                "title": data.title,
                "slug": data.slug,
                "category": data.category,
                "summary": data.summary,
                "status": data.status,
                "published_at": data.published_at,
                "body": data.body,
                "related": sorted(data.related),
                "faq": data.faq,
                "fixes": fixes,
            }
        )
    return categories, articles


def test_it_exports_the_shipped_content_as_shipped(tmp_path: Path) -> None:
    call_command("import_content", str(DEFAULT_PATH))
    call_command("seed_synonyms")
    call_command("export_content", str(tmp_path))
    assert _read_all(tmp_path) == _read_all(DEFAULT_PATH)
    # Advice the reports do not ask a vote about stays marked as such.
    assert not Fix.objects.get(slug="wait-for-the-service").ask_if_it_worked
    assert Fix.objects.get(
        article__slug="chatgpt-access-denied-1020", slug="clear-site-cookies"
    ).ask_if_it_worked
    # Same folder layout and file names too.
    assert _files(tmp_path).keys() == _files(DEFAULT_PATH).keys()
    # The synonym sets come back as the starter file lists them.
    from helpcenter.management.commands.seed_synonyms import starter_sets

    exported = yaml.safe_load((tmp_path / "synonyms.yml").read_text())
    assert {name: ", ".join(terms) for name, terms in exported.items()} == starter_sets()
    # And the categories file is the shipped one, byte for byte.
    assert (tmp_path / "categories.yml").read_bytes() == (
        DEFAULT_PATH / "categories.yml"
    ).read_bytes()


def test_it_refuses_a_non_empty_directory_unless_told(tmp_path: Path) -> None:
    call_command("import_content", str(DEFAULT_PATH))
    (tmp_path / "articles" / "gone").mkdir(parents=True)
    (tmp_path / "articles" / "gone" / "index.md").write_text("stale")
    (tmp_path / "README.md").write_text("mine")
    with pytest.raises(CommandError, match="--replace"):
        call_command("export_content", str(tmp_path))
    call_command("export_content", str(tmp_path), "--replace")
    assert not (tmp_path / "articles" / "gone").exists()
    assert (tmp_path / "README.md").read_text() == "mine"
    assert (tmp_path / "articles" / "is-chatgpt-down" / "index.md").is_file()


def test_it_skips_an_article_without_category_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Article.objects.create(title="Loose", slug="loose", status="draft")
    call_command("export_content", str(tmp_path))
    assert "loose" in capsys.readouterr().err
    assert not (tmp_path / "articles" / "loose").exists()
    assert yaml.safe_load((tmp_path / "categories.yml").read_text()) == []


def test_it_does_not_rely_on_sqlite(tmp_path: Path) -> None:
    # Datetimes come back from PostgreSQL in the connection's time zone; the
    # export writes UTC either way.
    call_command("import_content", str(DEFAULT_PATH))
    call_command("export_content", str(tmp_path))
    text = (tmp_path / "articles/is-chatgpt-down/index.md").read_text()
    assert "published_at: 2026-11-26T09:00:00Z\n" in text, connection.vendor
