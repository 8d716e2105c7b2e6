"""Small builders for knowledge-base rows, shared by the page tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from helpcenter.models import Article, Category, FaqEntry, Fix


def make_article(
    slug: str = "access-denied",
    *,
    fixes: int = 3,
    faq: int = 2,
    category: Category | None = None,
    status: str = "published",
    published_at: object = "past",
) -> Article:
    if category is None:
        category, _ = Category.objects.get_or_create(
            slug="errors", defaults={"title": "Errors", "description": "Error pages."}
        )
    when = timezone.now() - timedelta(days=1) if published_at == "past" else published_at
    article = Article.objects.create(
        title=f"Guide {slug}",
        slug=slug,
        category=category,
        summary=f"What to do about {slug}.",
        body="Intro.\n\n## What it means {#what-it-means}\n\nA rule matched.",
        status=status,
        published_at=when,
    )
    for n in range(1, fixes + 1):
        Fix.objects.create(
            article=article,
            title=f"Try step {n}",
            slug=f"step-{n}",
            order=n,
            summary=f"Summary of step {n}.",
            body=f"Do **step {n}**.",
        )
    for n in range(1, faq + 1):
        FaqEntry.objects.create(article=article, question=f"Question {n}?", answer=f"Answer {n}.")
    return article
