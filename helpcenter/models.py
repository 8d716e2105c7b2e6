"""The knowledge base: categories, articles, their ordered fixes and FAQ.

Markdown is rendered to sanitised HTML on save and stored, so a page view
never pays for rendering (a 30 KB article costs tens of milliseconds).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone

from helpcenter.markdown import render_inline, render_markdown

SLUG_HELP = "Part of the public URL. Changing it keeps the old URL working (301)."


class Category(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "title"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.title


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self) -> ArticleQuerySet:
        # "Scheduled" is published with a future time: it appears by itself
        # when the time comes, because every public query filters on now.
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True, help_text=SLUG_HELP)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(
        blank=True, help_text="Markdown. Give every heading an id: ## Title {#id}"
    )
    body_html = models.TextField(blank=True, editable=False)
    headings = models.JSONField(default=list, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)
    related = models.ManyToManyField("self", blank=True, symmetrical=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        rendered = render_markdown(self.body)
        self.body_html = rendered.html
        self.headings = [{"level": h.level, "id": h.id, "text": h.text} for h in rendered.headings]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("article", kwargs={"slug": self.slug})

    @property
    def is_public(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )


class Fix(models.Model):
    """One numbered remedy of an article, with a stable URL of its own."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="fixes")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, help_text=SLUG_HELP)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "slug"], name="unique_fix_slug_per_article")
        ]

    def __str__(self) -> str:
        return f"{self.article.title}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.body_html = render_markdown(self.body).html
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("fix", kwargs={"slug": self.article.slug, "fix_slug": self.slug})


class FaqEntry(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="faq")
    question = models.CharField(max_length=300)
    answer = models.TextField(help_text="Markdown")
    answer_html = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["article", "order", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.answer_html = render_inline(self.answer)
        super().save(*args, **kwargs)


class SlugRedirect(models.Model):
    """An old slug that must keep working: links never break."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="old_slugs")
    fix = models.ForeignKey(
        Fix, null=True, blank=True, on_delete=models.CASCADE, related_name="old_slugs"
    )
    old_slug = models.SlugField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["old_slug"])]

    def __str__(self) -> str:
        return self.old_slug
