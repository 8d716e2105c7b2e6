"""Content health for editors: what readers miss, which fixes fail, which links break.

Links are checked without leaving the site: each internal href is resolved
with Django's URL resolver and looked up in the database (slugs, old slugs,
fix slugs, heading ids), so a scan of every article costs a few queries and
no HTTP request.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Count, F, FloatField, Q
from django.db.models.functions import Cast
from django.urls import Resolver404, resolve, reverse

from helpcenter.models import Article, Category, FeedbackSummary, Fix, SearchMiss

# Ids the article template gives its own sections (templates/helpcenter/article.html).
ARTICLE_PAGE_IDS = {"main", "fixes", "faq", "related", "toc-heading"}
FIX_PAGE_IDS = {"main", "other-fixes"}


# --- Zero-result searches -----------------------------------------------------------


def top_search_misses(limit: int = 25) -> list[SearchMiss]:
    return list(SearchMiss.objects.order_by("-count", "-last_seen")[:limit])


# --- Fixes that do not work -----------------------------------------------------------


@dataclass(frozen=True)
class FixScore(FeedbackSummary):
    """A fix's yes/no votes (the one vote-count type, FeedbackSummary) with the fix."""

    fix: Fix


def worst_fixes(limit: int = 25, min_votes: int = 3) -> list[FixScore] | None:
    """Fixes with the lowest share of "yes, it worked", among those with enough votes.

    None when the feedback model is not installed. Fewer than ``min_votes``
    votes say more about chance than about the fix, so those are left out.
    """
    try:
        feedback: Any = apps.get_model("helpcenter", "FixFeedback")
    except LookupError:
        return None
    rows = (
        feedback.objects.values("fix")
        .annotate(total=Count("id"), yes=Count("id", filter=Q(helpful=True)))
        .filter(total__gte=min_votes)
        .annotate(share=Cast(F("yes"), FloatField()) / Cast(F("total"), FloatField()))
        .order_by("share", "-total", "fix")[:limit]
    )
    rows = list(rows)
    fixes = Fix.objects.select_related("article").in_bulk([row["fix"] for row in rows])
    return [
        FixScore(yes=row["yes"], no=row["total"] - row["yes"], fix=fixes[row["fix"]])
        for row in rows
        if row["fix"] in fixes
    ]


# --- Internal links -----------------------------------------------------------------


@dataclass(frozen=True)
class LinkProblem:
    source: str  # what the link is in: "Article title" or "Article title > Fix title"
    source_url: str  # where an editor fixes it (the admin change page)
    href: str
    problem: str
    redirect: bool = False  # works, through an old slug: the link should be updated


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "href" and tag == "a" and value:
                self.hrefs.append(value)
            elif name == "id" and value:
                self.ids.add(value)


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser


class _Site:
    """Published pages, loaded once for the whole scan."""

    def __init__(self) -> None:
        articles = Article.objects.published().prefetch_related("fixes")
        self.articles = {article.slug: article for article in articles}
        self._ids: dict[tuple[int, str | None], frozenset[str]] = {}

    def article_ids(self, article: Article) -> frozenset[str]:
        key = (article.pk, None)
        if key not in self._ids:
            ids = set(ARTICLE_PAGE_IDS) | _parse(article.body_html).ids
            ids |= {heading["id"] for heading in article.headings if heading.get("id")}
            ids |= {f"fix-{fix.slug}" for fix in article.fixes.all()}
            ids |= {f"faq-{n}" for n in range(1, article.faq.count() + 1)}
            self._ids[key] = frozenset(ids)
        return self._ids[key]

    def fix_ids(self, fix: Fix) -> frozenset[str]:
        key = (fix.article_id, fix.slug)
        if key not in self._ids:
            self._ids[key] = frozenset(FIX_PAGE_IDS | _parse(fix.body_html).ids)
        return self._ids[key]

    def find_article(self, slug: str) -> tuple[Article | None, bool, str]:
        """(article, found under an old slug, why not found)."""
        article = self.articles.get(slug)
        if article is not None:
            return article, False, ""
        found, old = Article.objects.find_public(slug)
        if found is not None:
            return self.articles.get(found.slug, found), old, ""
        if Article.objects.filter(slug=slug).exists():
            return None, False, f"the article “{slug}” is not published"
        return None, False, f"there is no article “{slug}”"


def broken_links() -> list[LinkProblem]:
    """Every internal link in published articles, fixes and FAQ that fails or redirects."""
    site = _Site()
    problems: list[LinkProblem] = []
    for article in site.articles.values():
        admin_url = reverse("admin:helpcenter_article_change", args=[article.pk])
        here = article.get_absolute_url()
        sources = [(article.title, article.body_html, here, site.article_ids(article))]
        sources += [
            (article.title, entry.answer_html, here, site.article_ids(article))
            for entry in article.faq.all()
        ]
        for fix in article.fixes.all():
            fix_here = f"{here}fix/{fix.slug}/"
            sources.append(
                (f"{article.title} > {fix.title}", fix.body_html, fix_here, site.fix_ids(fix))
            )
        for source, html, page_url, page_ids in sources:
            for href in _parse(html).hrefs:
                found = check_link(site, href, page_url, page_ids)
                if found is not None:
                    problem, redirect = found
                    problems.append(LinkProblem(source, admin_url, href, problem, redirect))
    return problems


def check_link(
    site: _Site, href: str, page_url: str, page_ids: frozenset[str]
) -> tuple[str, bool] | None:
    """None if ``href`` works or leads off the site; else (problem, is_a_redirect)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        own = urlsplit(settings.SITE_URL)
        if parts.scheme not in ("http", "https") or parts.netloc != own.netloc:
            return None  # leaves the site: not ours to check
    elif href.startswith("#") or not (parts.path or parts.fragment):
        anchor = unquote(parts.fragment)
        if anchor and anchor not in page_ids:
            return f"no heading or section with the id “{anchor}” on this page", False
        return None
    path = urljoin(page_url, parts.path) if parts.path else urlsplit(page_url).path
    anchor = unquote(parts.fragment)
    if path.startswith(settings.STATIC_URL):
        if finders.find(path.removeprefix(settings.STATIC_URL)) is None:
            return "no such static file", False
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return "no such page on this site", False
    kwargs = match.kwargs
    if match.url_name == "category":
        if not Category.objects.filter(slug=kwargs["slug"]).exists():
            return f"there is no category “{kwargs['slug']}”", False
        return None
    if match.url_name not in ("article", "fix"):
        return None  # another page of the site (search, feed, checks…): it resolves
    article, old, missing = site.find_article(kwargs["slug"])
    if article is None:
        return missing, False
    target_ids = site.article_ids(article)
    target_path = article.get_absolute_url()
    if match.url_name == "fix":
        fix, fix_old = article.find_fix(kwargs["fix_slug"])
        if fix is None:
            return f"the article “{article.slug}” has no fix “{kwargs['fix_slug']}”", False
        old = old or fix_old
        target_ids = site.fix_ids(fix)
        target_path = f"{target_path}fix/{fix.slug}/"
    if anchor and anchor not in target_ids:
        return f"no heading or section with the id “{anchor}” on {target_path}", False
    if old:
        target = target_path + (f"#{anchor}" if anchor else "")
        return f"redirects: update the link to {target}", True
    return None
