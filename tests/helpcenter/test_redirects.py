"""Renamed slugs keep old links working (301), from any save path."""

from __future__ import annotations

from typing import Any

import pytest

from helpcenter.models import Article, Fix, SlugRedirect
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db


def _rename_article(article: Article, slug: str) -> Article:
    article.slug = slug
    article.save()
    return article


def _rename_fix(fix: Fix, slug: str) -> Fix:
    fix.slug = slug
    fix.save()
    return fix


def test_renaming_an_article_records_the_old_slug() -> None:
    article = _rename_article(make_article("old-name"), "new-name")
    assert list(SlugRedirect.objects.values_list("old_slug", "article", "fix")) == [
        ("old-name", article.pk, None)
    ]


def test_saving_without_a_rename_records_nothing() -> None:
    article = make_article()
    article.title = "Another title"
    article.save()
    fix = article.fixes.first()
    assert fix is not None
    fix.save()
    assert not SlugRedirect.objects.exists()


def test_an_old_article_url_redirects_permanently(client: Any) -> None:
    _rename_article(make_article("old-name"), "new-name")
    response = client.get("/articles/old-name/")
    assert response.status_code == 301
    assert response["Location"] == "/articles/new-name/"


def test_a_chain_of_renames_lands_on_the_current_slug(client: Any) -> None:
    article = make_article("first")
    _rename_article(article, "second")
    _rename_article(article, "third")
    for old in ("first", "second"):
        assert client.get(f"/articles/{old}/")["Location"] == "/articles/third/"


def test_an_old_fix_url_redirects_permanently(client: Any) -> None:
    article = make_article()
    fix = _rename_fix(article.fixes.get(slug="step-2"), "better-step")
    response = client.get("/articles/access-denied/fix/step-2/")
    assert response.status_code == 301
    assert response["Location"] == fix.get_absolute_url()


def test_old_article_and_old_fix_slugs_together_redirect(client: Any) -> None:
    article = make_article("old-guide")
    _rename_fix(article.fixes.get(slug="step-1"), "new-step")
    _rename_article(article, "new-guide")
    for url in (
        "/articles/old-guide/fix/step-1/",
        "/articles/old-guide/fix/new-step/",
        "/articles/new-guide/fix/step-1/",
    ):
        response = client.get(url)
        assert response.status_code == 301, url
        assert response["Location"] == "/articles/new-guide/fix/new-step/"


def test_a_current_slug_wins_over_history(client: Any) -> None:
    _rename_article(make_article("shared-name"), "moved-away")
    newcomer = make_article("shared-name", fixes=1)
    response = client.get("/articles/shared-name/")
    assert response.status_code == 200
    assert response.context["article"] == newcomer


def test_a_current_fix_slug_wins_over_history(client: Any) -> None:
    article = make_article()
    _rename_fix(article.fixes.get(slug="step-1"), "renamed")
    _rename_fix(article.fixes.get(slug="step-2"), "step-1")
    response = client.get("/articles/access-denied/fix/step-1/")
    assert response.status_code == 200
    assert response.context["fix"].title == "Try step 2"


def test_an_old_slug_of_an_unpublished_article_is_not_found(client: Any) -> None:
    article = _rename_article(make_article("old-name"), "new-name")
    article.status = Article.Status.DRAFT
    article.save()
    assert client.get("/articles/old-name/").status_code == 404


def test_renames_through_the_admin_are_recorded(admin_client: Any) -> None:
    article = make_article(fixes=0, faq=0)
    response = admin_client.post(
        f"/admin/helpcenter/article/{article.pk}/change/",
        {
            "title": article.title,
            "slug": "renamed-in-admin",
            "category": article.category_id,
            "summary": article.summary,
            "body": article.body,
            "status": article.status,
            "published_at_0": article.published_at.strftime("%Y-%m-%d"),  # type: ignore[union-attr]
            "published_at_1": article.published_at.strftime("%H:%M:%S"),  # type: ignore[union-attr]
            "fixes-TOTAL_FORMS": "0",
            "fixes-INITIAL_FORMS": "0",
            "faq-TOTAL_FORMS": "0",
            "faq-INITIAL_FORMS": "0",
            "old_slugs-TOTAL_FORMS": "0",
            "old_slugs-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SlugRedirect.objects.filter(article=article, old_slug="access-denied").exists()
