"""Load categories, articles, fixes and FAQ from Markdown files into the database.

Layout of a content directory::

    categories.yml                      list of {slug, title, description, order}
    articles/<slug>/index.md            front matter + guide body
    articles/<slug>/fixes/NN-<slug>.md  front matter + fix body
                                        (``ask_if_it_worked: false`` for advice
                                        reports should not ask a vote about)

Everything is checked before anything is written, and the writes happen in
one transaction: one bad file leaves the database exactly as it was. Running
it again over the same files changes no row (unchanged rows are not saved, so
their updated_at and the pages' ETags stay put). Articles that are not in the
files are left alone; an imported article's fixes and FAQ are made to match
its files exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import frontmatter
import reversion
import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from helpcenter.markdown import MarkdownTooLarge, render_markdown
from helpcenter.models import Article, Category, FaqEntry, Fix

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "content"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ARTICLE_KEYS = {"title", "slug", "category", "status"}
FIX_KEYS = {"title", "slug"}


@dataclass
class FixFile:
    path: Path
    title: str
    slug: str
    order: int
    summary: str
    body: str
    ask_if_it_worked: bool = True


@dataclass
class ArticleFile:
    path: Path
    title: str
    short_title: str
    slug: str
    category: str
    summary: str
    status: str
    published_at: datetime | None
    body: str
    related: list[str]
    renamed_from: list[str]
    faq: list[tuple[str, str]]
    fixes: list[FixFile] = field(default_factory=list)


class ContentError(CommandError):
    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


class Command(BaseCommand):
    help = "Import the Markdown knowledge base (categories, articles, fixes, FAQ) idempotently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", type=Path, help=f"default: {DEFAULT_PATH}")

    def handle(self, *args: Any, **options: Any) -> None:
        roots: list[Path] = options["paths"] or [DEFAULT_PATH]
        categories: list[dict[str, Any]] = []
        articles: list[ArticleFile] = []
        for root in roots:
            if not root.is_dir():
                raise CommandError(f"{root}: not a directory")
            categories += _read_categories(root / "categories.yml")
            folders = [root] if (root / "index.md").is_file() else _article_dirs(root)
            articles += [_read_article(folder) for folder in folders]
        _check_unique(articles)
        with transaction.atomic(), reversion.create_revision(atomic=False):
            # One revision per import: each changed article's history shows it.
            reversion.set_comment("import from files")
            counts = _apply(categories, articles)
        summary = ", ".join(f"{n} {what}" for what, n in counts.items())
        self.stdout.write(f"Imported {len(articles)} articles: {summary or 'nothing changed'}.")


# --- Reading and checking -----------------------------------------------------


def _article_dirs(root: Path) -> list[Path]:
    base = root / "articles"
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "index.md").is_file())


def _read_categories(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise ContentError(path, f"invalid YAML: {_yaml_problem(exc)}", _yaml_line(exc)) from None
    if not isinstance(data, list):
        raise ContentError(path, "must be a list of categories")
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not {"slug", "title"} <= item.keys():
            raise ContentError(path, f"category #{i} needs at least slug and title")
        if not SLUG_RE.match(str(item["slug"])):
            raise ContentError(path, f"category #{i}: bad slug {item['slug']!r}")
    return data


def _load(path: Path) -> tuple[dict[str, Any], str, int]:
    """Front matter, body and the file line the body starts on."""
    text = path.read_text(encoding="utf-8")
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        line = _yaml_line(exc)
        if line is not None:
            # Marks count lines within the front matter block: shift by where
            # that block starts in the file.
            line += text.count("\n", 0, _front_matter_offset(text))
        raise ContentError(path, f"invalid YAML front matter: {_yaml_problem(exc)}", line) from None
    if not post.metadata:
        raise ContentError(path, "no front matter (a block between --- lines at the top)", 1)
    body_start = text.count("\n", 0, text.find(post.content)) + 1 if post.content else 1
    return dict(post.metadata), post.content, body_start


def _front_matter_offset(text: str) -> int:
    # The same split python-frontmatter makes, so the offsets agree.
    handler = frontmatter.YAMLHandler()
    _, block, _ = handler.FM_BOUNDARY.split(text, 2)
    return text.find(block)


def _yaml_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    return str(getattr(exc, "problem", None) or exc).strip()


def _require(path: Path, meta: dict[str, Any], keys: set[str]) -> None:
    missing = sorted(k for k in keys if meta.get(k) in (None, ""))
    if missing:
        raise ContentError(path, f"missing required front matter: {', '.join(missing)}")
    slug = str(meta["slug"])
    if not SLUG_RE.match(slug) or len(slug) > 120:
        raise ContentError(path, f"bad slug {slug!r}: use lowercase letters, digits and hyphens")


def _check_markdown(path: Path, body: str, body_start: int) -> None:
    try:
        rendered = render_markdown(body)
    except MarkdownTooLarge as exc:
        raise ContentError(path, f"body is too large ({exc})") from None
    if rendered.missing_ids:
        first = rendered.missing_ids[0]
        raise ContentError(
            path,
            f"heading without an explicit id: {first!r} (write it as '## Title {{#some-id}}')",
            _heading_line(body, first, body_start),
        )


def _heading_line(body: str, heading: str, body_start: int) -> int | None:
    for i, line in enumerate(body.splitlines()):
        if line.lstrip().startswith("#") and heading in line:
            return body_start + i
    return None


def _published_at(path: Path, value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ContentError(path, f"published_at is not a date and time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read_article(folder: Path) -> ArticleFile:
    path = folder / "index.md"
    meta, body, body_start = _load(path)
    _require(path, meta, ARTICLE_KEYS)
    if meta["status"] not in Article.Status.values:
        raise ContentError(path, f"status must be one of {', '.join(Article.Status.values)}")
    _check_markdown(path, body, body_start)
    faq = []
    for i, entry in enumerate(meta.get("faq") or [], start=1):
        if not isinstance(entry, dict) or not entry.get("question") or not entry.get("answer"):
            raise ContentError(path, f"faq entry #{i} needs a question and an answer")
        faq.append((str(entry["question"]).strip(), str(entry["answer"]).strip()))
    article = ArticleFile(
        path=path,
        title=str(meta["title"]),
        short_title=str(meta.get("short_title") or ""),
        slug=str(meta["slug"]),
        category=str(meta["category"]),
        summary=str(meta.get("summary") or ""),
        status=str(meta["status"]),
        published_at=_published_at(path, meta.get("published_at")),
        body=body,
        related=[str(s) for s in meta.get("related") or []],
        renamed_from=[str(s) for s in meta.get("renamed_from") or []],
        faq=faq,
    )
    fix_dir = folder / "fixes"
    fix_paths = sorted(fix_dir.glob("*.md")) if fix_dir.is_dir() else []
    for position, fix_path in enumerate(fix_paths, start=1):
        fmeta, fbody, fstart = _load(fix_path)
        _require(fix_path, fmeta, FIX_KEYS)
        _check_markdown(fix_path, fbody, fstart)
        try:
            order = int(fmeta.get("order", position))
        except (TypeError, ValueError):
            raise ContentError(fix_path, "order must be a whole number") from None
        article.fixes.append(
            FixFile(
                path=fix_path,
                title=str(fmeta["title"]),
                slug=str(fmeta["slug"]),
                order=order,
                summary=str(fmeta.get("summary") or ""),
                body=fbody,
                ask_if_it_worked=fmeta.get("ask_if_it_worked", True) is not False,
            )
        )
    article.fixes.sort(key=lambda fix: (fix.order, fix.path.name))
    return article


def _check_unique(articles: list[ArticleFile]) -> None:
    seen: dict[str, Path] = {}
    for article in articles:
        if article.slug in seen:
            raise ContentError(
                article.path, f"duplicate article slug {article.slug!r} (also {seen[article.slug]})"
            )
        seen[article.slug] = article.path
        fix_seen: dict[str, Path] = {}
        for fix in article.fixes:
            if fix.slug in fix_seen:
                raise ContentError(
                    fix.path, f"duplicate fix slug {fix.slug!r} (also {fix_seen[fix.slug]})"
                )
            fix_seen[fix.slug] = fix.path


# --- Writing ------------------------------------------------------------------


def _sync(obj: models.Model, values: dict[str, Any]) -> bool:
    """Set changed fields and save; an unchanged row is not saved at all."""
    changed = obj.pk is None
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if changed:
        obj.save()
    return changed


def _apply(categories: list[dict[str, Any]], articles: list[ArticleFile]) -> dict[str, int]:
    counts = {"categories changed": 0, "articles changed": 0, "fixes changed": 0, "faq changed": 0}
    for item in categories:
        category = Category.objects.filter(slug=item["slug"]).first() or Category(slug=item["slug"])
        values = {
            "title": str(item["title"]),
            "description": str(item.get("description") or ""),
            "order": int(item.get("order") or 0),
        }
        counts["categories changed"] += _sync(category, values)
    by_slug = {c.slug: c for c in Category.objects.all()}

    saved: dict[str, Article] = {}
    for data in articles:
        home = by_slug.get(data.category)
        if home is None:
            raise ContentError(data.path, f"unknown category {data.category!r}")
        article = _find_article(data)
        values = {
            "title": data.title,
            "short_title": data.short_title,
            "slug": data.slug,
            "category_id": home.pk,
            "summary": data.summary,
            "status": data.status,
            "published_at": data.published_at,
            "body": data.body,
        }
        counts["articles changed"] += _sync(article, values)
        fixes_changed, removed = _sync_fixes(article, data.fixes)
        faq_changed, faq_removed = _sync_faq(article, data.faq)
        counts["fixes changed"] += fixes_changed
        counts["faq changed"] += faq_changed
        if removed or faq_removed:
            # Deleting rows leaves no newer updated_at behind: bump the article
            # so Last-Modified and the ETag move on.
            article.save(update_fields=["updated_at"])
        if fixes_changed or faq_changed or removed or faq_removed:
            # A changed fix or FAQ entry is part of the article's version too.
            reversion.add_to_revision(article)
        saved[data.slug] = article

    # After every article exists, so guides may point at each other.
    for data in articles:
        wanted = []
        for slug in data.related:
            target = saved.get(slug) or Article.objects.filter(slug=slug).first()
            if target is None:
                raise ContentError(data.path, f"related article {slug!r} does not exist")
            wanted.append(target.pk)
        article = saved[data.slug]
        current = set(article.related.values_list("pk", flat=True))
        if current != set(wanted):
            article.related.set(wanted)
            reversion.add_to_revision(article)
    return {what: n for what, n in counts.items() if n}


def _find_article(data: ArticleFile) -> Article:
    article = Article.objects.filter(slug=data.slug).first()
    if article is None and data.renamed_from:
        # A rename in the files: keep the row (and its history) so the old
        # URL redirects instead of dying.
        article = Article.objects.filter(slug__in=data.renamed_from).first()
    return article or Article()


def _sync_fixes(article: Article, files: list[FixFile]) -> tuple[int, int]:
    existing = {fix.slug: fix for fix in article.fixes.all()}
    by_order = {fix.order: fix for fix in existing.values()}
    wanted = {f.slug for f in files}
    changed = 0
    kept: set[int] = set()
    for data in files:
        fix = existing.get(data.slug)
        if fix is None:
            # A fix whose slug vanished from the files but whose position is
            # reused is a rename: keep the row so its old URL redirects.
            candidate = by_order.get(data.order)
            if candidate is not None and candidate.slug not in wanted and candidate.pk not in kept:
                fix = candidate
        fix = fix or Fix(article=article)
        values = {
            "title": data.title,
            "slug": data.slug,
            "order": data.order,
            "summary": data.summary,
            "body": data.body,
            "ask_if_it_worked": data.ask_if_it_worked,
        }
        changed += _sync(fix, values)
        kept.add(fix.pk)
    removed, _ = article.fixes.exclude(pk__in=kept).delete()
    return changed, removed


def _sync_faq(article: Article, entries: list[tuple[str, str]]) -> tuple[int, int]:
    existing = list(article.faq.all())
    changed = 0
    for order, (question, answer) in enumerate(entries, start=1):
        entry = existing[order - 1] if order <= len(existing) else FaqEntry(article=article)
        changed += _sync(entry, {"question": question, "answer": answer, "order": order})
    removed = 0
    if len(existing) > len(entries):
        stale = [entry.pk for entry in existing[len(entries) :]]
        removed, _ = FaqEntry.objects.filter(pk__in=stale).delete()
    return changed, removed
