"""Write the knowledge base out as the Markdown files import_content reads.

Docs as code, both ways: the files this writes import back unchanged, and
exporting again gives the same bytes (keys in one order, one date format,
bodies ending in one newline). The style follows the shipped files in
helpcenter/content/, so exporting them after an import reproduces them.

Old slugs are not written: the importer has no place for a fix's old slug,
and an article's ``renamed_from`` would not survive a round trip through a
fresh database.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpcenter import images
from helpcenter.management.commands.import_content import DEFAULT_PATH
from helpcenter.models import Article, Category, FaqEntry, Fix, Service, SynonymSet

# YAML may not contain these raw (and reads the last four as line breaks), so
# quoted values spell them as escapes and literal blocks are not used for them.
_NEEDS_ESCAPE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029\ufeff]"
)
_PLAIN = re.compile(r"[a-z0-9][a-z0-9-]*")


class Command(BaseCommand):
    help = "Export categories, articles, fixes and FAQ as Markdown files import_content reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "out_dir", nargs="?", type=Path, default=DEFAULT_PATH, help=f"default: {DEFAULT_PATH}"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace categories.yml and articles/ in a directory that already has content.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out_dir"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out}: not a directory")
        if out.is_dir() and any(out.iterdir()):
            if not options["replace"]:
                raise CommandError(
                    f"{out} is not empty: pass --replace to overwrite its categories.yml, "
                    "synonyms.yml, services.yml, articles/ and images/ (anything else in it "
                    "is left alone)"
                )
            shutil.rmtree(out / "articles", ignore_errors=True)
            shutil.rmtree(out / "images", ignore_errors=True)
            (out / "categories.yml").unlink(missing_ok=True)
            (out / "synonyms.yml").unlink(missing_ok=True)
            (out / "services.yml").unlink(missing_ok=True)
        files, skipped = export_files()
        for relative, text in files.items():
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        copied = self._copy_images(files, out / "images")
        for article in skipped:
            self.stderr.write(
                f"Skipped “{article.title}” ({article.slug}): it has no category, "
                "and the files need one."
            )
        articles = sum(1 for name in files if name.endswith("/index.md"))
        self.stdout.write(
            f"Exported {articles} articles, {copied} images, the categories and the search "
            f"synonyms to {out}."
        )

    def _copy_images(self, files: dict[str, str], folder: Path) -> int:
        """The uploaded images the exported Markdown shows, beside it in images/."""
        copied = 0
        for name in sorted(images.referenced_names(*files.values())):
            source = images.file_for(name)
            if source is None:
                self.stderr.write(f"Image {images.URL_PREFIX}{name} is shown but not stored here.")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, folder / name)
            copied += 1
        return copied


def export_files() -> tuple[dict[str, str], list[Article]]:
    """Every file of the export, by path relative to the content root, and what was skipped."""
    files = {
        "categories.yml": render_categories(list(Category.objects.order_by("order", "slug"))),
        "synonyms.yml": render_synonyms(list(SynonymSet.objects.order_by("name"))),
        "services.yml": render_services(list(Service.objects.order_by("order", "slug"))),
    }
    skipped = []
    articles = Article.objects.select_related("category", "service").order_by("slug")
    for article in articles.prefetch_related("related"):
        if article.category is None:
            skipped.append(article)
            continue
        folder = f"articles/{article.slug}"
        fixes = list(article.fixes.order_by("order", "id"))
        faq = list(article.faq.order_by("order", "id"))
        files[f"{folder}/index.md"] = render_article(article, faq)
        width = max(2, len(str(len(fixes))))
        for position, fix in enumerate(fixes, start=1):
            files[f"{folder}/fixes/{position:0{width}d}-{fix.slug}.md"] = render_fix(fix)
    return files, skipped


def render_synonyms(sets: list[SynonymSet]) -> str:
    """The synonym sets as seed_synonyms reads them: ``name: [term, term, ...]``."""
    lines = ["# Search synonym sets (exported); `manage.py seed_synonyms` reads this shape."]
    for synonym_set in sets:
        terms = ", ".join(json.dumps(term, ensure_ascii=False) for term in synonym_set.phrases())
        lines.append(f"{synonym_set.name}: [{terms}]")
    return "\n".join(lines) + "\n"


def render_categories(categories: list[Category]) -> str:
    lines: list[str] = []
    for category in categories:
        lines += [
            f"- slug: {_scalar(category.slug)}",
            f"  title: {_quote(category.title)}",
            f"  description: {_quote(category.description)}",
            f"  order: {category.order}",
        ]
    return "\n".join(lines) + "\n" if lines else "[]\n"


def render_services(services: list[Service]) -> str:
    lines: list[str] = []
    for service in services:
        lines += [
            f"- slug: {_scalar(service.slug)}",
            f"  name: {_quote(service.name)}",
            f"  summary: {_quote(service.summary)}",
            f"  website_url: {_quote(service.website_url)}",
            f"  support_url: {_quote(service.support_url)}",
            f"  order: {service.order}",
        ]
    return "\n".join(lines) + "\n" if lines else "[]\n"


def render_article(article: Article, faq: list[FaqEntry]) -> str:
    assert article.category is not None
    lines = [
        f"title: {_quote(article.title)}",
        *([f"short_title: {_quote(article.short_title)}"] if article.short_title else []),
        f"slug: {_scalar(article.slug)}",
        f"category: {_scalar(article.category.slug)}",
        *([f"service: {_scalar(article.service.slug)}"] if article.service else []),
        f"summary: {_quote(article.summary)}",
        f"status: {_scalar(article.status)}",
    ]
    if article.published_at is not None:
        lines.append(f"published_at: {format_datetime(article.published_at)}")
    related = sorted(article.related.all(), key=lambda other: (other.title, other.slug))
    if related:
        lines.append(f"related: [{', '.join(_scalar(other.slug) for other in related)}]")
    if faq:
        lines.append("faq:")
        for entry in faq:
            lines.append(f"  - question: {_quote(entry.question.strip())}")
            lines.append(f"    answer:{_block(_text(entry.answer), indent=6)}")
    return _document(lines, article.body)


def render_fix(fix: Fix) -> str:
    lines = [
        f"title: {_quote(fix.title)}",
        f"slug: {_scalar(fix.slug)}",
        f"order: {fix.order}",
        f"summary: {_quote(fix.summary)}",
    ]
    if not fix.ask_if_it_worked:  # written only when unset, so other fixes export as before
        lines.append("ask_if_it_worked: false")
    return _document(lines, fix.body)


def format_datetime(value: datetime) -> str:
    """One ISO 8601 form, in UTC with a Z; seconds unless the value has a fraction."""
    value = value.astimezone(UTC)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _document(front_matter: list[str], body: str) -> str:
    text = _text(body)
    return "---\n" + "\n".join(front_matter) + "\n---\n" + (text + "\n" if text else "")


def _text(value: str) -> str:
    # The importer reads files with universal newlines and strips bodies and
    # answers; doing the same here makes the first export already stable.
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _quote(value: str) -> str:
    """A double-quoted YAML scalar (JSON's string syntax is a subset of it)."""
    quoted = json.dumps(value, ensure_ascii=False)
    return _NEEDS_ESCAPE.sub(lambda m: _escape(m.group()), quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _scalar(value: str) -> str:
    """Plain when YAML reads it back as the same string (not `yes`, `null` or `12`)."""
    if _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return _quote(value)


def _block(value: str, indent: int) -> str:
    """A literal block (``|``) as the shipped files write answers, or a quoted value.

    A literal block keeps text exactly, except characters YAML will not hold
    raw; those values are written quoted instead.
    """
    if not value or _NEEDS_ESCAPE.search(value) or value[0].isspace():
        return " " + _quote(value)
    pad = " " * indent
    return " |\n" + "\n".join(pad + line if line else "" for line in value.split("\n"))
