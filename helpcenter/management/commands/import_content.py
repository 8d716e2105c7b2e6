"""Load categories, articles, fixes and FAQ from Markdown files into the database.

Layout of a content directory::

    categories.yml                      list of {slug, title, description, order}
    services.yml                        list of {slug, name, summary, website_url,
                                        support_url, order}: the services guides
                                        are about (``service:`` in an article's
                                        front matter; none = a general guide)
    articles/<slug>/index.md            front matter + guide body
    articles/<slug>/fixes/NN-<slug>.md  front matter + fix body
                                        (``ask_if_it_worked: false`` for advice
                                        reports should not ask a vote about)

Everything is checked before anything is written, and the writes happen in
one transaction: one bad file leaves the database exactly as it was. Running
it again over the same files changes no row (unchanged rows are not saved, so
their updated_at and the pages' ETags stay put).

Content follows the starter-data policy (helpcenter.starter): what is missing
is created, a row is updated only if nobody changed it since it was last
imported, and an editor's change is kept ("Kept your edit of …") unless
``--overwrite`` is given, which lists what it will replace first. Articles,
fixes and FAQ entries the files do not have are left alone, except rows an
import made and nobody touched since, which follow the files out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import frontmatter
import reversion
import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from reversion.errors import RevertError
from reversion.models import Version

from helpcenter import images, starter
from helpcenter.markdown import MarkdownTooLarge, render_markdown
from helpcenter.models import (
    Article,
    Category,
    FaqEntry,
    Fix,
    Service,
    SlugRedirect,
    tidy_text,
)

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
    service: str  # a service's slug; empty for a general guide
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
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Also replace what editors changed since the last import (listed first).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would change; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        roots: list[Path] = options["paths"] or [DEFAULT_PATH]
        categories: list[dict[str, Any]] = []
        services: list[dict[str, Any]] = []
        articles: list[ArticleFile] = []
        for root in roots:
            if not root.is_dir():
                raise CommandError(f"{root}: not a directory")
            categories += _read_list(root / "categories.yml", Category, ("slug", "title"))
            services += _read_list(root / "services.yml", Service, ("slug", "name"))
            folders = [root] if (root / "index.md").is_file() else _article_dirs(root)
            articles += [_read_article(folder) for folder in folders]
        _check_unique(articles)
        overwrite, dry_run = options["overwrite"], options["dry_run"]
        if not dry_run:
            # Before the rows that show them, so no page points at a missing image.
            for root in roots:
                self._import_images(root / "images")
        if overwrite:
            # A dry run first, so the list printed is exactly what the real run replaces.
            plan = run_import(categories, articles, services, overwrite=True, dry_run=True)
            self._list_replacements(plan, dry_run)
        report = run_import(categories, articles, services, overwrite=overwrite, dry_run=dry_run)
        for line in report.kept:
            self.stdout.write(line)
        if report.kept:
            self.stdout.write(
                "To take the files' version of these instead, run "
                "manage.py import_content --overwrite (it lists them first)."
            )
        counts = report.counts
        summary = ", ".join(
            f"{counts[what]} {what}"
            for what in ("created", "updated", "removed", "unchanged", "kept")
            if counts[what] or what in ("created", "updated", "kept")
        )
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(f"{verb} {len(articles)} articles (rows {summary}).")

    def _import_images(self, folder: Path) -> None:
        """Images an export carried (images/, named by the hash of their bytes)."""
        if not folder.is_dir():
            return
        for path in sorted(folder.iterdir()):
            if path.is_file() and not images.import_file(path):
                self.stderr.write(f"{path}: skipped, not an image stored under its own hash")

    def _list_replacements(self, plan: ImportReport, dry_run: bool) -> None:
        if not plan.replaced:
            self.stdout.write("No edits to replace: nothing was changed since the last import.")
            return
        verb = "Would replace" if dry_run else "Replacing"
        n = len(plan.replaced)
        self.stdout.write(f"{verb} {n} edit{'s' if n != 1 else ''} with the files' version:")
        for label in plan.replaced:
            self.stdout.write(f"  - {label}")
        if not dry_run:
            self.stdout.write("(Each replaced version stays in the history, ready to restore.)")


# --- Reading and checking -----------------------------------------------------


def _article_dirs(root: Path) -> list[Path]:
    base = root / "articles"
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "index.md").is_file())


def _read_list(
    path: Path, model: type[models.Model], needed: tuple[str, str]
) -> list[dict[str, Any]]:
    """A YAML list of ``model`` entries (categories, services), each with the ``needed`` keys."""
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise ContentError(path, f"invalid YAML: {_yaml_problem(exc)}", _yaml_line(exc)) from None
    meta = model._meta
    if not isinstance(data, list):
        raise ContentError(path, f"must be a list of {meta.verbose_name_plural}")
    slug = meta.get_field("slug")
    longest = getattr(slug, "max_length", None) or 50
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not set(needed) <= item.keys():
            raise ContentError(
                path, f"{meta.verbose_name} #{i} needs at least {' and '.join(needed)}"
            )
        if not SLUG_RE.match(str(item["slug"])) or len(str(item["slug"])) > longest:
            raise ContentError(path, f"{meta.verbose_name} #{i}: bad slug {item['slug']!r}")
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
        service=str(meta.get("service") or ""),
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


# --- Writing: the starter-data policy -------------------------------------------
# Each article, fix, FAQ entry, category and set of related articles is one row of
# starter data (helpcenter.starter): created when missing, updated when nobody
# changed it since it was last imported, otherwise kept as the editor left it.

IMPORT_COMMENT = "import from files"
ARTICLE_FIELDS = (
    "title",
    "short_title",
    "slug",
    "category_id",
    "summary",
    "status",
    "published_at",
    "body",
)
FIX_FIELDS = ("title", "slug", "order", "summary", "ask_if_it_worked", "body")
FAQ_FIELDS = ("question", "answer", "order")
CATEGORY_FIELDS = ("title", "description", "order")
SERVICE_FIELDS = ("name", "summary", "website_url", "support_url", "order")


def _content_digest(model: type[models.Model], values: Any, names: tuple[str, ...]) -> str:
    """The digest of a row's content, from files, a row or an old version alike.

    Text is compared in the spelling the models store, so CRLF or a trailing
    blank line in a file or an old row is not a difference.
    """
    tidy = tidy_text(model, {name: values.get(name) for name in names})
    return starter.digest({name: _plain(value) for name, value in tidy.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _row_values(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _imported_version(obj: models.Model) -> Version | None:
    """The newest version an import (not a person) wrote of ``obj``."""
    return (
        Version.objects.get_for_object(obj)
        .filter(revision__comment__startswith=IMPORT_COMMENT, revision__user__isnull=True)
        .order_by("-revision__date_created", "-pk")
        .first()
    )


def _digest_from_history(obj: models.Model, names: tuple[str, ...]) -> set[str]:
    """What the last import wrote to a row seeded before digests were kept.

    Databases from before the policy have no digest. A row still holding what
    an import last wrote is untouched (safe to update); a row changed since
    (an editor's revision on top) or with no import in its history at all
    counts as edited and is kept.
    """
    version = _imported_version(obj)
    if version is None:
        return set()
    try:
        stored = version.field_dict
    except RevertError:  # a version that no longer loads proves nothing
        return set()
    return {_content_digest(type(obj), stored, names)}


def _related_from_history(article: Article) -> set[str]:
    version = _imported_version(article)
    if version is None:
        return set()
    try:
        pks = version.field_dict.get("related") or []
    except RevertError:
        return set()
    return {starter.digest(sorted(int(pk) for pk in pks))}


class _Rollback(Exception):
    """Ends a dry run: everything it wrote is rolled back."""


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do), row by row."""

    counts: Counter[str] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def run_import(
    categories: list[dict[str, Any]],
    articles: list[ArticleFile],
    services: list[dict[str, Any]] | None = None,
    *,
    overwrite: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Apply the files in one transaction and one revision; a dry run rolls it all back."""
    writer = _Writer(overwrite)
    try:
        with transaction.atomic(), reversion.create_revision(atomic=False):
            # One revision per import: each changed article's history shows it.
            # It is saved only if a row was written, so a run that changes
            # nothing leaves history alone.
            reversion.set_comment(IMPORT_COMMENT + (" (replacing edits)" if overwrite else ""))
            writer.apply(categories, articles, services or [])
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return writer.report


class _Writer:
    def __init__(self, overwrite: bool) -> None:
        self.overwrite = overwrite
        self.report = ImportReport()
        # Starter articles an editor deleted: left deleted, and not linked to.
        self.deleted: set[str] = set()
        # Articles this run created: their related guides are missing, not edited.
        self.created: set[str] = set()
        self.titles: dict[str, str] = {}

    # One row --------------------------------------------------------------------

    def settle(
        self,
        kind: str,
        keys: list[str],
        obj: models.Model,
        values: dict[str, Any],
        names: tuple[str, ...],
        label: str,
    ) -> bool:
        """Bring ``obj`` (unsaved when missing) to ``values`` by the policy; True if written.

        ``keys[0]`` is the row's key now, the others what it was known by
        before a rename in the files.
        """
        model = type(obj)
        wanted = _content_digest(model, values, names)
        if obj.pk is None:
            # Seeded once, gone now: someone deleted it on purpose. Not for a
            # category, though: articles in the files need theirs to exist.
            if kind != "category" and starter.seeded_digests(kind, keys):
                if not self.overwrite:
                    self._note("kept", f"Kept your deletion of {label}.")
                    return False
                self.report.replaced.append(f"{label} (deleted here; recreated)")
            self._write(obj, values)
            self._remember(kind, keys, wanted)
            self.report.counts["created"] += 1
            return True
        current = _content_digest(model, _row_values(obj, names), names)
        seeded = starter.seeded_digests(kind, keys) or _digest_from_history(obj, names)
        outcome = starter.decide(current, wanted, seeded, overwrite=self.overwrite)
        if outcome == "kept":
            self._note("kept", f"Kept your edit of {label}.")
            return False
        self._remember(kind, keys, wanted)
        if outcome == "unchanged":
            self.report.counts["unchanged"] += 1
            return False
        if current not in seeded:
            self.report.replaced.append(label)
        self._write(obj, values)
        self.report.counts["updated"] += 1
        return True

    def prune(
        self, kind: str, key: str, obj: models.Model, names: tuple[str, ...], label: str
    ) -> bool:
        """A row the files no longer have: deleted if it is still as imported; True if deleted.

        Rows an editor added (never imported) are not the files' business and stay.
        """
        seeded = starter.seeded_digests(kind, [key]) or _digest_from_history(obj, names)
        if not seeded:
            return False
        current = _content_digest(type(obj), _row_values(obj, names), names)
        if current not in seeded:
            if not self.overwrite:
                self._note("kept", f"Kept your edit of {label}, which the files no longer have.")
                return False
            self.report.replaced.append(f"{label} (no longer in the files; removed)")
        obj.delete()
        starter.forget(kind, [key])
        self.report.counts["removed"] += 1
        return True

    def _prune_rest(
        self,
        article: Article,
        kind: str,
        rows: Iterable[Any],
        names: tuple[str, ...],
        *,
        key: Callable[[Any], str],
        label: Callable[[Any], str],
    ) -> bool:
        """Prune an article's fixes or FAQ entries the files no longer have; True if any went."""
        removed = False
        for row in rows:
            removed |= self.prune(kind, key(row), row, names, label(row))
        if removed:
            _touch(article)
        return removed

    def _note(self, outcome: str, message: str) -> None:
        self.report.counts[outcome] += 1
        self.report.kept.append(message)

    @staticmethod
    def _write(obj: models.Model, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()

    @staticmethod
    def _remember(kind: str, keys: list[str], wanted: str) -> None:
        starter.remember(kind, keys[0], wanted)
        if keys[1:]:
            starter.forget(kind, keys[1:])

    # The content ------------------------------------------------------------------

    def apply(
        self,
        categories: list[dict[str, Any]],
        articles: list[ArticleFile],
        services: list[dict[str, Any]],
    ) -> None:
        for item in services:
            self._service(item)
        for item in categories:
            category = Category.objects.filter(slug=item["slug"]).first()
            values = {
                "title": str(item["title"]),
                "description": str(item.get("description") or ""),
                "order": int(item.get("order") or 0),
            }
            self.settle(
                "category",
                [item["slug"]],
                category or Category(slug=item["slug"]),
                values,
                CATEGORY_FIELDS,
                f"category “{values['title']}”",
            )
        by_slug = {c.slug: c for c in Category.objects.all()}

        saved: dict[str, Article] = {}
        for data in articles:
            article = self._article(data, by_slug)
            if article is not None:
                saved[data.slug] = article
        # After every article exists, so guides may point at each other.
        for data in articles:
            if data.slug in saved:
                self._related(data, saved)
                self._article_service(data, saved[data.slug])

    def _service(self, item: dict[str, Any]) -> None:
        service = Service.objects.filter(slug=item["slug"]).first()
        values = {
            "name": str(item["name"]),
            "summary": str(item.get("summary") or ""),
            "website_url": str(item.get("website_url") or ""),
            "support_url": str(item.get("support_url") or ""),
            "order": int(item.get("order") or 0),
        }
        label = f"service “{service.name if service else values['name']}”"
        self.settle(
            "service",
            [item["slug"]],
            service or Service(slug=item["slug"]),
            values,
            SERVICE_FIELDS,
            label,
        )

    def _article_service(self, data: ArticleFile, article: Article) -> None:
        """Which service a guide is about: a starter value of its own (starter.seed_value).

        Apart from the article's fields, so installs from before services existed
        (whose recorded digests know no service) do not read every guide as edited.
        """
        wanted = None
        if data.service:
            wanted = Service.objects.filter(slug=data.service).first()
            if wanted is None:
                raise ContentError(data.path, f"unknown service {data.service!r}")
        current = article.service.slug if article.service else None
        outcome, replaced = starter.seed_value(
            "article-service",
            [data.slug, *data.renamed_from],
            "service",
            current,
            data.service or None,
            fresh=data.slug in self.created,
            overwrite=self.overwrite,
        )
        label = f"the service of {self.titles[data.slug]}"
        if outcome == "kept":
            self._note("kept", f"Kept your edit of {label}.")
        elif outcome == "updated":
            if replaced:
                self.report.replaced.append(label)
            article.service = wanted
            article.save(update_fields=["service", "updated_at"])
            reversion.add_to_revision(article)

    def _article(self, data: ArticleFile, by_slug: dict[str, Category]) -> Article | None:
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
        keys = [data.slug, *data.renamed_from]
        label = article.title if article.pk else data.title
        # Messages name an article by the title the editor knows, even once replaced.
        self.titles[data.slug] = label
        created = article.pk is None
        self.settle("article", keys, article, values, ARTICLE_FIELDS, label)
        if created and article.pk is not None:
            self.created.add(data.slug)
        if article.pk is None:
            self.deleted.add(data.slug)
            return None
        children_changed = self._fixes(article, data)
        children_changed |= self._faq(article, data)
        if children_changed:
            # A changed fix or FAQ entry is part of the article's version too.
            reversion.add_to_revision(article)
        return article

    def _fixes(self, article: Article, data: ArticleFile) -> bool:
        existing = {fix.slug: fix for fix in article.fixes.all()}
        by_order = {fix.order: fix for fix in existing.values()}
        wanted = {f.slug for f in data.fixes}
        changed = False
        matched: set[int] = set()
        for fix_data in data.fixes:
            fix, old_slug = self._find_fix(article, fix_data, existing, by_order, wanted, matched)
            keys = [f"{data.slug}/{fix_data.slug}"]
            if old_slug and old_slug != fix_data.slug:
                keys.append(f"{data.slug}/{old_slug}")
            values = {
                "title": fix_data.title,
                "slug": fix_data.slug,
                "order": fix_data.order,
                "summary": fix_data.summary,
                "ask_if_it_worked": fix_data.ask_if_it_worked,
                "body": fix_data.body,
            }
            title = fix.title if fix.pk else fix_data.title
            label = f"fix “{title}” in {self.titles[data.slug]}"
            changed |= self.settle("fix", keys, fix, values, FIX_FIELDS, label)
            if fix.pk is not None:
                matched.add(fix.pk)
        removed = self._prune_rest(
            article,
            "fix",
            article.fixes.exclude(pk__in=matched),
            FIX_FIELDS,
            key=lambda fix: f"{data.slug}/{fix.slug}",
            label=lambda fix: f"fix “{fix.title}” in {self.titles[data.slug]}",
        )
        return changed or removed

    @staticmethod
    def _find_fix(
        article: Article,
        data: FixFile,
        existing: dict[str, Fix],
        by_order: dict[int, Fix],
        wanted: set[str],
        matched: set[int],
    ) -> tuple[Fix, str | None]:
        """The row for a fix file (unsaved if none) and the slug it had, if found by another."""
        fix = existing.get(data.slug)
        if fix is not None:
            return fix, None
        # Renamed by an editor: the old slug redirects to it.
        moved = (
            SlugRedirect.objects.filter(article=article, old_slug=data.slug, fix__isnull=False)
            .order_by("-created_at", "-id")
            .values_list("fix_id", flat=True)
            .first()
        )
        fix = article.fixes.filter(pk=moved).first() if moved is not None else None
        if fix is not None and fix.pk not in matched:
            return fix, data.slug
        # Renamed in the files: a fix whose slug vanished from the files but
        # whose position is reused; keeping the row keeps its old URL working.
        candidate = by_order.get(data.order)
        if candidate is not None and candidate.slug not in wanted and candidate.pk not in matched:
            return candidate, candidate.slug
        return Fix(article=article), None

    def _faq(self, article: Article, data: ArticleFile) -> bool:
        existing: dict[int, FaqEntry] = {}
        for entry in article.faq.all():
            existing.setdefault(entry.order, entry)
        changed = False
        matched: set[int] = set()
        for order, (question, answer) in enumerate(data.faq, start=1):
            entry = existing.get(order) or FaqEntry(article=article)
            values = {"question": question, "answer": answer, "order": order}
            shown = entry.question if entry.pk else question
            label = f"FAQ “{shown}” in {self.titles[data.slug]}"
            key = f"{data.slug}#{order}"
            changed |= self.settle("faq", [key], entry, values, FAQ_FIELDS, label)
            if entry.pk is not None:
                matched.add(entry.pk)
        removed = self._prune_rest(
            article,
            "faq",
            article.faq.exclude(pk__in=matched),
            FAQ_FIELDS,
            key=lambda entry: f"{data.slug}#{entry.order}",
            label=lambda entry: f"FAQ “{entry.question}” in {self.titles[data.slug]}",
        )
        return changed or removed

    def _related(self, data: ArticleFile, saved: dict[str, Article]) -> None:
        article = saved[data.slug]
        wanted: list[int] = []
        for slug in data.related:
            if slug in self.deleted:
                continue  # deleted here on purpose: no link to it
            target = saved.get(slug) or Article.objects.filter(slug=slug).first()
            if target is None:
                raise ContentError(data.path, f"related article {slug!r} does not exist")
            wanted.append(target.pk)
        current_pks = sorted(article.related.values_list("pk", flat=True))
        current = starter.digest(current_pks)
        goal = starter.digest(sorted(wanted))
        keys = [data.slug, *data.renamed_from]
        seeded = starter.seeded_digests("article-related", keys) or _related_from_history(article)
        if data.slug in self.created:
            seeded.add(current)
        outcome = starter.decide(current, goal, seeded, overwrite=self.overwrite)
        label = f"the related guides of {self.titles[data.slug]}"
        if outcome == "kept":
            self._note("kept", f"Kept your edit of {label}.")
            return
        self._remember("article-related", keys, goal)
        if outcome == "updated":
            if current not in seeded:
                self.report.replaced.append(label)
            article.related.set(wanted)
            reversion.add_to_revision(article)


def _touch(article: Article) -> None:
    # Deleting rows leaves no newer updated_at behind: bump the article so
    # Last-Modified and the ETag move on.
    article.save(update_fields=["updated_at"])


def _find_article(data: ArticleFile) -> Article:
    article = Article.objects.filter(slug=data.slug).first()
    if article is None and data.renamed_from:
        # A rename in the files: keep the row (and its history) so the old
        # URL redirects instead of dying.
        article = Article.objects.filter(slug__in=data.renamed_from).first()
    if article is None:
        # Renamed by an editor: its old slug redirects to it.
        moved = (
            SlugRedirect.objects.filter(old_slug=data.slug, fix__isnull=True)
            .order_by("-created_at", "-id")
            .values_list("article_id", flat=True)
            .first()
        )
        article = Article.objects.filter(pk=moved).first() if moved is not None else None
    return article or Article()
