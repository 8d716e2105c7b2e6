"""The knowledge base: categories, articles, their ordered fixes and FAQ.

Markdown is rendered to sanitised HTML on save and stored, so a page view
never pays for rendering (a 30 KB article costs tens of milliseconds).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Max
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpcenter.markdown import render_inline, render_markdown
from helpcenter.text import stored_text


def tidy_text(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as ``model`` would store them: each text field in its one spelling.

    The importer compares files with rows through this, so a file's CRLF or
    trailing blank line is not mistaken for a change.
    """
    tidy = dict(values)
    for f in model._meta.concrete_fields:
        value = tidy.get(f.attname)
        text_field = isinstance(f, models.CharField | models.TextField)
        if isinstance(value, str) and f.editable and text_field:
            tidy[f.attname] = stored_text(value, multiline=isinstance(f, models.TextField))
    return tidy


def _tidy_text_fields(instance: models.Model) -> None:
    """Control characters (NUL above all) out, one spelling of line endings and ends.

    In save() so every path (admin, importer, restore, shell) stores the same
    text the same way; only QuerySet.update() bypasses it.
    """
    current = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
    for name, value in tidy_text(type(instance), current).items():
        if value is not current[name]:
            setattr(instance, name, value)


SLUG_HELP = _("Part of the public URL. Changing it keeps the old URL working (301).")


class Category(models.Model):
    slug = models.SlugField(unique=True, verbose_name=_("slug"))
    title = models.CharField(max_length=120, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    # Part of the home and category pages' validators (ETag / Last-Modified).
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("category")
        ordering = ["order", "title"]
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        _tidy_text_fields(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("category", kwargs={"slug": self.slug})

    @classmethod
    def page_state_for_slug(cls, slug: str) -> tuple[str, datetime] | None:
        """(etag, last modified) for a category page from one query; None if no such category."""
        public = models.Q(
            articles__status=Article.Status.PUBLISHED, articles__published_at__lte=timezone.now()
        )
        row = (
            cls.objects.filter(slug=slug)
            .annotate(
                n=Count("articles", filter=public),
                updated=Max("articles__updated_at", filter=public),
                published=Max("articles__published_at", filter=public),
            )
            .values("updated_at", "n", "updated", "published")
            .first()
        )
        if row is None:
            return None
        latest: datetime = max(
            stamp for stamp in (row["updated_at"], row["updated"], row["published"]) if stamp
        )
        return f"{row['n']}-{latest.timestamp()}", latest


class Service(models.Model):
    """A site or app the help center covers (a chat app, a game, a bank): data, not code.

    Guides that belong to it name it; general guides (``Article.service`` empty)
    do not, and the page around them (the checks panel, the service page) says
    which service a visitor is asking about. ``diagnostics`` hangs its check
    targets, runs and rules off this model; this app never looks back at them.
    """

    name = models.CharField(max_length=80, verbose_name=_("name"))
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=_("Part of the public URL: /services/<slug>/."),
        verbose_name=_("slug"),
    )
    summary = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("One plain sentence: what the service is."),
        verbose_name=_("summary"),
    )
    website_url = models.URLField(max_length=300, blank=True, verbose_name=_("website url"))
    support_url = models.URLField(
        max_length=300,
        blank=True,
        help_text=_("Where its users ask for help; a block only the service can lift ends there."),
        verbose_name=_("support url"),
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        _tidy_text_fields(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("service", kwargs={"slug": self.slug})


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self) -> ArticleQuerySet:
        # "Scheduled" is published with a future time: it appears by itself
        # when the time comes, because every public query filters on now.
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def find_public(self, slug: str) -> tuple[Article | None, bool]:
        """The published article for ``slug``, and whether it was found under an old slug.

        A current slug always wins over history, so a slug that was given up
        and later reused by another article leads to the new one.
        """
        published = self.published()
        article = published.filter(slug=slug).select_related("category").first()
        if article is not None:
            return article, False
        old = (
            SlugRedirect.objects.filter(old_slug=slug, fix__isnull=True)
            .order_by("-created_at", "-id")
            .values_list("article_id", flat=True)
        )
        for article_id in old:
            article = published.filter(pk=article_id).select_related("category").first()
            if article is not None:
                return article, True
        return None, False

    def page_times(self) -> dict[int, datetime]:
        """When each article's pages last changed (their Last-Modified), from one query."""
        rows = self.annotate(**_page_state_columns()).values("pk", "updated_at", *_PAGE_STATE_KEYS)
        return {row["pk"]: _page_state(row)[1] for row in rows}

    def list_state(self) -> tuple[str, datetime | None]:
        """A cheap validator pair (etag, last modified) for pages that list articles.

        One aggregate query. The count catches removals and scheduled articles
        coming due; published_at catches those too in Last-Modified.
        """
        agg = self.published().aggregate(
            n=Count("id"),
            updated=Max("updated_at"),
            published=Max("published_at"),
            category=Max("category__updated_at"),
        )
        stamps = [agg["updated"], agg["published"], agg["category"]]
        latest = max((stamp for stamp in stamps if stamp is not None), default=None)
        etag = f"{agg['n']}-{latest.timestamp() if latest else 0}"
        return etag, latest


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        verbose_name=_("category"),
    )
    # Empty: a general guide, about any service (its text names none).
    # PROTECT: a service with guides cannot vanish from under them.
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text=_("The service this guide is about; empty for a guide that fits any service."),
        verbose_name=_("service"),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    short_title = models.CharField(
        max_length=80,
        blank=True,
        help_text=_(
            "How a fix page names this guide, e.g. “error 1020” gives "
            "“Clear the site's cookies — fixing error 1020”. Empty: the title."
        ),
        verbose_name=_("short title"),
    )
    slug = models.SlugField(
        max_length=120, unique=True, help_text=SLUG_HELP, verbose_name=_("slug")
    )
    summary = models.CharField(max_length=300, blank=True, verbose_name=_("summary"))
    body = models.TextField(
        blank=True,
        help_text=_("Markdown. Give every heading an id: ## Title {#id}"),
        verbose_name=_("body"),
    )
    body_html = models.TextField(blank=True, editable=False, verbose_name=_("body html"))
    headings = models.JSONField(
        default=list, blank=True, editable=False, verbose_name=_("headings")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    published_at = models.DateTimeField(null=True, blank=True, verbose_name=_("published at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    related = models.ManyToManyField(
        "self", blank=True, symmetrical=False, verbose_name=_("related")
    )
    # Optimistic locking: the admin form carries the number it was loaded with
    # and refuses to save over a newer one (helpcenter/editing.py).
    version = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("version"))

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["title"]
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        _tidy_text_fields(self)
        self.render()
        # Here rather than in a view so every path (admin, importer, shell)
        # keeps old links working; only QuerySet.update() bypasses it.
        stored = (
            Article.objects.filter(pk=self.pk).values_list("slug", "version").first()
            if self.pk is not None
            else None
        )
        old_slug = stored[0] if stored else None
        # One more than what is stored, whatever this instance holds: every save
        # (admin, importer, a restored old revision) makes open forms stale.
        self.version = (stored[1] if stored else 0) + 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
        if old_slug is not None and old_slug != self.slug:
            SlugRedirect.objects.create(article=self, old_slug=old_slug)

    def get_absolute_url(self) -> str:
        return reverse("article", kwargs={"slug": self.slug})

    def render(self) -> None:
        """Fill body_html and headings from body: on save, and for a preview never saved."""
        rendered = render_markdown(self.body)
        self.body_html = rendered.html
        self.headings = [{"level": h.level, "id": h.id, "text": h.text} for h in rendered.headings]

    def find_fix(self, fix_slug: str) -> tuple[Fix | None, bool]:
        """This article's fix for ``fix_slug``, and whether it was found under an old slug."""
        fix = self.fixes.filter(slug=fix_slug).first()
        if fix is not None:
            return fix, False
        old = (
            SlugRedirect.objects.filter(article=self, old_slug=fix_slug, fix__isnull=False)
            .order_by("-created_at", "-id")
            .values_list("fix_id", flat=True)
            .first()
        )
        fix = self.fixes.filter(pk=old).first() if old is not None else None
        return fix, fix is not None

    def page_state(self) -> tuple[str, datetime]:
        """(etag, last modified) for this article's pages, from one query.

        Covers the article, its fixes and FAQ (counts catch deletions) and the
        related articles whose titles the page shows.
        """
        row = (
            Article.objects.filter(pk=self.pk)
            .annotate(**_page_state_columns())
            .values("updated_at", *_PAGE_STATE_KEYS)[0]
        )
        return _page_state(row)

    @classmethod
    def page_state_for_slug(cls, slug: str) -> tuple[str, datetime] | None:
        """The same validators, looked up by public slug (None if not published)."""
        row = (
            cls.objects.published()
            .filter(slug=slug)
            .annotate(**_page_state_columns())
            .values("updated_at", *_PAGE_STATE_KEYS)
            .first()
        )
        return _page_state(row) if row is not None else None

    @classmethod
    def public_page(cls, slug: str) -> tuple[Article, str, datetime] | None:
        """The published article for ``slug`` with its category and validators, in one query.

        For the article page, whose validators and article were two queries.
        None when the slug is not a current public one (the view then looks
        for an old slug to redirect from).
        """
        article = (
            cls.objects.published()
            .filter(slug=slug)
            .select_related("category")
            .annotate(**_page_state_columns())
            .first()
        )
        if article is None:
            return None
        etag, modified = _page_state(article.__dict__)
        return article, etag, modified

    @property
    def is_public(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )


class Fix(models.Model):
    """One numbered remedy of an article, with a stable URL of its own."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="fixes", verbose_name=_("article")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    slug = models.SlugField(max_length=120, help_text=SLUG_HELP, verbose_name=_("slug"))
    summary = models.CharField(max_length=300, blank=True, verbose_name=_("summary"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    body_html = models.TextField(blank=True, editable=False, verbose_name=_("body html"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    # "Wait for the service to recover" is advice, not something a visitor tries and
    # then sees work or fail: a report asks "did this fix it?" only about the others.
    ask_if_it_worked = models.BooleanField(
        default=True,
        help_text=_(
            "Reports ask a visitor who tried this whether it fixed the problem. Untick "
            "for advice that is not a fix to try (waiting for an outage to end, reading a "
            "status page)."
        ),
        verbose_name=_("ask if it worked"),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("fix")
        ordering = ["article", "order", "id"]
        # Django would say "fixs" (fixes have their own admin pages now).
        verbose_name_plural = _("fixes")
        constraints = [
            models.UniqueConstraint(fields=["article", "slug"], name="unique_fix_slug_per_article")
        ]

    def __str__(self) -> str:
        return f"{self.article.title}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _tidy_text_fields(self)
        self.render()
        old_slug = _stored_slug(Fix, self.pk)
        super().save(*args, **kwargs)
        if old_slug is not None and old_slug != self.slug:
            SlugRedirect.objects.create(article_id=self.article_id, fix=self, old_slug=old_slug)

    def get_absolute_url(self) -> str:
        return reverse("fix", kwargs={"slug": self.article.slug, "fix_slug": self.slug})

    def render(self) -> None:
        """Fill body_html from body, its tab sets under the fix's own id prefix."""
        self.body_html = render_markdown(self.body, tab_prefix=f"fix-{self.slug}").html

    def get_vote_url(self) -> str:
        return reverse("fix_vote", kwargs={"slug": self.article.slug, "fix_slug": self.slug})

    def feedback_summary(self) -> FeedbackSummary:
        """Yes and no votes for this fix, and the share of yes (None before any vote)."""
        return FixFeedback.summary_for(self.pk)

    @property
    def shows_live_status(self) -> bool:
        """Whether this fix's page carries the live status slot (settings.LIVE_STATUS_FIX_SLUGS)."""
        return self.slug in settings.LIVE_STATUS_FIX_SLUGS


class FaqEntry(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="faq", verbose_name=_("article")
    )
    question = models.CharField(max_length=300, verbose_name=_("question"))
    answer = models.TextField(help_text=_("Markdown"), verbose_name=_("answer"))
    answer_html = models.TextField(blank=True, editable=False, verbose_name=_("answer html"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["article", "order", "id"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.question

    def save(self, *args: Any, **kwargs: Any) -> None:
        _tidy_text_fields(self)
        self.render()
        super().save(*args, **kwargs)

    def render(self) -> None:
        self.answer_html = render_inline(self.answer)


class SlugRedirect(models.Model):
    """An old slug that must keep working: links never break."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="old_slugs", verbose_name=_("article")
    )
    fix = models.ForeignKey(
        Fix,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="old_slugs",
        verbose_name=_("fix"),
    )
    old_slug = models.SlugField(max_length=120, verbose_name=_("old slug"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("slug redirect")
        verbose_name_plural = _("slug redirects")
        indexes = [models.Index(fields=["old_slug"])]

    def __str__(self) -> str:
        return self.old_slug


def _stored_slug(model: type[Article] | type[Fix], pk: int | None) -> str | None:
    if pk is None:
        return None
    return model._default_manager.filter(pk=pk).values_list("slug", flat=True).first()


_PAGE_STATE_KEYS = (
    "fix_count",
    "fix_updated",
    "faq_count",
    "faq_updated",
    "related_updated",
)


def _page_state_columns() -> dict[str, Any]:
    """The validators' columns: counts and latest edits of fixes, FAQ and related guides.

    Written as SQL rather than ORM subqueries: built and compiled by the ORM, the
    five correlated subqueries took about half of an uncached article page's time
    (docs/benchmarks.md, issue 15); as RawSQL they compile to their text. A
    correlated subquery per column keeps this one query without the row
    multiplication that joining fixes, FAQ and related would cause. The SQL names
    the outer table itself, so these columns are for querysets over articles that
    are evaluated as they are, never nested inside another query.
    """
    # Table and column names from the models' own metadata; no value from outside.
    columns = _state_sql().items()
    return {name: RawSQL(sql, (), output_field=field) for name, (sql, field) in columns}  # noqa: S611


@functools.cache
def _state_sql() -> dict[str, tuple[str, models.Field[Any, Any]]]:
    def q(name: str) -> str:
        return f'"{name}"'  # PostgreSQL and SQLite both quote names this way

    article = q(Article._meta.db_table)

    def of_article(model: type[models.Model], aggregate: str) -> str:
        foreign_key: Any = model._meta.get_field("article")  # a ForeignKey, which has a column
        table, fk = q(model._meta.db_table), q(foreign_key.column)
        return f'(SELECT {aggregate} FROM {table} WHERE {table}.{fk} = {article}."id")'  # noqa: S608

    through: Any = Article.related.through  # the stubs do not know the auto-created model
    link = q(through._meta.db_table)
    source = q(through._meta.get_field("from_article").column)
    target = q(through._meta.get_field("to_article").column)
    joined = f'{link} INNER JOIN {article} other ON other."id" = {link}.{target}'
    where = f'{link}.{source} = {article}."id"'
    related = f'(SELECT MAX(other."updated_at") FROM {joined} WHERE {where})'  # noqa: S608
    count, when = models.IntegerField(), models.DateTimeField()
    return {
        "fix_count": (of_article(Fix, "COUNT(*)"), count),
        "fix_updated": (of_article(Fix, 'MAX("updated_at")'), when),
        "faq_count": (of_article(FaqEntry, "COUNT(*)"), count),
        "faq_updated": (of_article(FaqEntry, 'MAX("updated_at")'), when),
        "related_updated": (related, when),
    }


def _page_state(row: dict[str, Any]) -> tuple[str, datetime]:
    stamps = [row["updated_at"], row["fix_updated"], row["faq_updated"], row["related_updated"]]
    latest: datetime = max(stamp for stamp in stamps if stamp is not None)
    etag = f"{latest.timestamp()}-{row['fix_count']}-{row['faq_count']}"
    return etag, latest


# --- Search ---------------------------------------------------------------------
# the helpcenter.search package owns the logic; these hold what it stores. On SQLite the
# index lives in an FTS5 table created after migrate instead (see helpcenter/search/signals.py).


class SearchDocument(models.Model):
    """One article or one fix as PostgreSQL full-text search sees it.

    Denormalised on save (helpcenter/search/signals.py) so a query reads
    one indexed table instead of joining fixes and FAQ over 10,000 articles.
    """

    # Left alone by Django's delete collector (on SQLite this table does not
    # exist, and the collector would still query it); the search signals' post_delete
    # handlers remove the rows instead, hence no database constraint either.
    article = models.ForeignKey(
        Article, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    fix = models.OneToOneField(
        Fix,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    # Kept up to date by PostgreSQL itself: no second write on save, and
    # the weights (title A, summary and FAQ questions B, body C) live here.
    vector = models.GeneratedField(
        expression=(
            SearchVector("title", weight="A", config="english")
            + SearchVector("summary", weight="B", config="english")
            + SearchVector("body", weight="C", config="english")
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    # Title and summary alone: small enough to stay inline in the row, so
    # ranking thousands of matches does not read every body's vector.
    head = models.GeneratedField(
        expression=(
            SearchVector("title", weight="A", config="english")
            + SearchVector("summary", weight="B", config="english")
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        required_db_vendor = "postgresql"
        indexes = [
            GinIndex(fields=["vector"], name="search_document_vector"),
            # Search's first tier matches on head alone (title and summary hits).
            GinIndex(fields=["head"], name="search_document_head"),
        ]
        constraints = [
            # One row for the article itself (fix is NULL); fix rows are unique by fix.
            models.UniqueConstraint(
                fields=["article"],
                condition=models.Q(fix__isnull=True),
                name="one_search_document_per_article",
            )
        ]

    def __str__(self) -> str:
        return self.title


class SearchTerm(models.Model):
    """A word seen in the indexed text: the vocabulary typo correction picks from.

    Only ever added to: a word whose articles were deleted can still be
    suggested, but then simply matches nothing.
    """

    word = models.CharField(max_length=32, unique=True)

    class Meta:
        required_db_vendor = "postgresql"
        indexes = [
            GinIndex(fields=["word"], opclasses=["gin_trgm_ops"], name="search_term_trigram")
        ]

    def __str__(self) -> str:
        return self.word


class SearchMiss(models.Model):
    """A search that found nothing: what readers look for and we have not written.

    Only the normalised query text is kept, never who asked.
    """

    query = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=1)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-count", "-last_seen"]

    def __str__(self) -> str:
        return self.query


# --- "Did this fix work?" votes (logic in helpcenter/feedback.py) -----------------


@dataclass(frozen=True)
class FeedbackSummary:
    yes: int
    no: int

    @property
    def total(self) -> int:
        return self.yes + self.no

    @property
    def ratio(self) -> float | None:
        """Share of "yes" votes, 0..1; None when nobody has voted."""
        return self.yes / self.total if self.total else None


class FixFeedback(models.Model):
    """One visitor's answer to "did this fix work?".

    The visitor is only the daily-rotated hash from helpcenter.clients, so the
    unique (fix, visitor_hash) pair means one vote per visitor per fix per UTC
    day: a second vote the same day changes the first, and tomorrow the same
    person is a new, unlinkable visitor. A vote cast from a check report keeps
    that report's verdict as a code string (never a link to the run, which
    expires and lives in diagnostics), so editors see which fix solves what.
    """

    fix = models.ForeignKey(
        Fix, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("fix")
    )
    # Which service the visitor was fixing: a general guide's fix serves many.
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("service"),
    )
    helpful = models.BooleanField(verbose_name=_("helpful"))
    verdict_code = models.CharField(
        max_length=60,
        blank=True,
        help_text=_("The check verdict the vote came from, if any."),
        verbose_name=_("verdict code"),
    )
    visitor_hash = models.CharField(max_length=64, editable=False, verbose_name=_("visitor hash"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("fix feedback")
        verbose_name_plural = _("fix feedback")
        constraints = [
            models.UniqueConstraint(
                fields=["fix", "visitor_hash"], name="one_vote_per_visitor_per_fix"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="fixfeedback_created")]

    def __str__(self) -> str:
        return f"{self.fix_id}: {'yes' if self.helpful else 'no'}"

    @classmethod
    def summary_for(cls, fix_id: int | None) -> FeedbackSummary:
        counts = cls.objects.filter(fix_id=fix_id).aggregate(
            yes=Count("id", filter=models.Q(helpful=True)),
            no=Count("id", filter=models.Q(helpful=False)),
        )
        return FeedbackSummary(yes=counts["yes"], no=counts["no"])


class FixVotes(Fix):
    """Fixes seen through their votes: the admin's per-fix counts and ratio (no table)."""

    class Meta:
        proxy = True
        verbose_name = _("votes per fix")
        verbose_name_plural = _("votes per fix")


class SeededRow(models.Model):
    """What setup last wrote to a row of starter data, as a digest.

    A row whose content still has this digest was not edited since, so a new
    starter version may replace it; any other content is someone's edit and stays.
    """

    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="seeded_row_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class SynonymSet(models.Model):
    """Words and phrases search treats as one ("disable, turn off"), edited in the admin.

    Applied to the visitor's query, never to the index: an edit takes effect
    on the next search without re-indexing anything.
    """

    name = models.SlugField(
        max_length=60,
        unique=True,
        help_text=_("A short name for the set, e.g. disable."),
        verbose_name=_("name"),
    )
    terms = models.TextField(
        help_text=_(
            "Words or phrases that mean the same here, separated by commas: "
            "disable, turn off, switch off"
        ),
        verbose_name=_("terms"),
    )

    class Meta:
        verbose_name_plural = _("synonym sets")
        ordering = ["name"]
        verbose_name = _("synonym set")

    def __str__(self) -> str:
        return self.terms

    def clean(self) -> None:
        if len(self.phrases()) < 2:
            raise ValidationError(
                {"terms": gettext("Give at least two words or phrases, separated by commas.")}
            )

    def phrases(self) -> list[str]:
        """The set's terms, lower case, in order, without blanks or repeats."""
        seen: dict[str, None] = {}
        for term in self.terms.split(","):
            phrase = " ".join(term.lower().split())
            if phrase:
                seen.setdefault(phrase, None)
        return list(seen)
