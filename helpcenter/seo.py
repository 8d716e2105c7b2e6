"""Link-preview and search-engine data: absolute URLs, breadcrumbs and JSON-LD.

Builders return plain dicts and lists; ``helpcenter_tags.json_ld`` writes them
into the page as a data block, which a strict CSP leaves alone because
browsers never execute it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from helpcenter import share_images
from helpcenter.search.documents import html_text

if TYPE_CHECKING:
    from helpcenter.models import Article, Category, FaqEntry, Fix

# Search engines cut descriptions at about this many characters.
DESCRIPTION_CHARS = 160


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


def absolute(path: str) -> str:
    """An absolute URL on the public site, for previews, canonicals and feeds."""
    base = (settings.SITE_URL or "").rstrip("/")
    return path if path.startswith(("http://", "https://")) else f"{base}{path}"


@dataclass(frozen=True)
class Preview:
    """What a shared link shows: title, description and image (absolute URL)."""

    title: str
    description: str
    image: str
    image_alt: str


def description(text: str) -> str:
    """At most DESCRIPTION_CHARS characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= DESCRIPTION_CHARS:
        return text
    cut = text[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:.\u2013\u2014-")
    return f"{cut}…"


def with_site_name(title: str) -> str:
    return f"{title} · {settings.SITE_NAME}"


def fix_title(article: Article, fix: Fix) -> str:
    """The fix named with its guide: "Clear the site's cookies — fixing error 1020"."""
    if article.short_title:
        return gettext("%(fix)s — fixing %(guide)s") % {
            "fix": fix.title,
            "guide": article.short_title,
        }
    return f"{fix.title} — {article.title}"


def article_preview(article: Article) -> Preview:
    card = share_images.article_card(article)
    text = article.summary or html_text(article.body_html)
    return Preview(with_site_name(article.title), description(text), absolute(card.url), card.title)


def fix_preview(article: Article, fix: Fix) -> Preview:
    card = share_images.fix_card(fix)
    text = fix.summary or html_text(fix.body_html)
    return Preview(
        with_site_name(fix_title(article, fix)),
        description(text),
        absolute(card.url),
        f"{card.title} — {card.context}",
    )


def crumbs(
    category: Category | None,
    article: Article | None = None,
    fix: Fix | None = None,
    number: int | None = None,
) -> list[Crumb]:
    """Home > Category > Article (> Fix N): the trail shown on the page and in JSON-LD."""
    trail = [Crumb(gettext("Home"), reverse("home"))]
    if category is not None:
        trail.append(Crumb(category.title, category.get_absolute_url()))
    if article is not None:
        trail.append(Crumb(article.title, article.get_absolute_url()))
    if fix is not None:
        title = gettext("Fix %(number)s: %(title)s") % {"number": number, "title": fix.title}
        trail.append(Crumb(title, fix.get_absolute_url()))
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
                # Plain text: search engines show it as is, so neither Markdown nor HTML.
                "acceptedAnswer": {"@type": "Answer", "text": html_text(entry.answer_html)},
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


def fix_how_to(article: Article, fix: Fix) -> dict[str, Any]:
    """One fix as a HowTo of its own: the fix's instructions are its step."""
    url = absolute(fix.get_absolute_url())
    return {
        "@type": "HowTo",
        "name": fix_title(article, fix),
        "description": fix.summary or article.summary,
        "url": url,
        "image": absolute(share_images.fix_card(fix).url),
        "step": [
            {
                "@type": "HowToStep",
                "position": 1,
                "name": fix.title,
                "text": html_text(fix.body_html) or fix.summary or fix.title,
                "url": url,
            }
        ],
    }


def fix_graph(article: Article, fix: Fix, number: int) -> dict[str, Any]:
    trail = crumbs(article.category, article, fix, number)
    graph = [breadcrumb_list(trail), fix_how_to(article, fix)]
    return {"@context": "https://schema.org", "@graph": graph}
