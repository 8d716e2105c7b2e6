"""Link-preview and search-engine data: absolute URLs, breadcrumbs and JSON-LD.

Builders return plain dicts and lists; ``helpcenter_tags.json_ld`` writes them
into the page as a data block, which a strict CSP leaves alone because
browsers never execute it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

if TYPE_CHECKING:
    from helpcenter.models import Article, Category, FaqEntry, Fix

SHARE_IMAGE = "img/share.png"
SHARE_IMAGE_SIZE = (1200, 630)


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


def absolute(path: str) -> str:
    """An absolute URL on the public site, for previews, canonicals and feeds."""
    base = (settings.SITE_URL or "").rstrip("/")
    return path if path.startswith(("http://", "https://")) else f"{base}{path}"


def share_image_url() -> str:
    return absolute(static(SHARE_IMAGE))


def crumbs(
    category: Category | None,
    article: Article | None = None,
    fix: Fix | None = None,
    number: int | None = None,
) -> list[Crumb]:
    """Home > Category > Article (> Fix N): the trail shown on the page and in JSON-LD."""
    trail = [Crumb("Home", reverse("home"))]
    if category is not None:
        trail.append(Crumb(category.title, category.get_absolute_url()))
    if article is not None:
        trail.append(Crumb(article.title, article.get_absolute_url()))
    if fix is not None:
        trail.append(Crumb(f"Fix {number}: {fix.title}", fix.get_absolute_url()))
    return trail


def breadcrumb_list(trail: list[Crumb]) -> dict[str, Any]:
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": crumb.name, "item": absolute(crumb.url)}
            for i, crumb in enumerate(trail, start=1)
        ],
    }


def faq_page(faq: list[FaqEntry]) -> dict[str, Any]:
    return {
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": entry.question,
                # Plain Markdown source: search engines take text, not our HTML.
                "acceptedAnswer": {"@type": "Answer", "text": entry.answer.strip()},
            }
            for entry in faq
        ],
    }


def how_to(article: Article, fixes: list[Fix]) -> dict[str, Any]:
    return {
        "@type": "HowTo",
        "name": article.title,
        "description": article.summary,
        "step": [
            {
                "@type": "HowToStep",
                "position": i,
                "name": fix.title,
                "text": fix.summary or fix.title,
                "url": absolute(fix.get_absolute_url()),
            }
            for i, fix in enumerate(fixes, start=1)
        ],
    }


def article_graph(article: Article, fixes: list[Fix], faq: list[FaqEntry]) -> dict[str, Any]:
    graph = [breadcrumb_list(crumbs(article.category, article))]
    if fixes:
        graph.append(how_to(article, fixes))
    if faq:
        graph.append(faq_page(faq))
    return {"@context": "https://schema.org", "@graph": graph}


def fix_graph(article: Article, fix: Fix, number: int) -> dict[str, Any]:
    trail = crumbs(article.category, article, fix, number)
    return {"@context": "https://schema.org", "@graph": [breadcrumb_list(trail)]}
