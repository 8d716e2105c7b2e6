"""Signed, expiring preview links: a draft for a colleague, never public, never cached."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from helpcenter import editing
from tests.helpcenter.admin_forms import change_url, make_editor
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db


def _url(token: str) -> str:
    return f"/preview/{token}/"


def test_it_shows_a_draft_without_a_login(client: Any) -> None:
    draft = make_article("secret-draft", status="draft", published_at=None)
    assert client.get("/articles/secret-draft/").status_code == 404

    response = client.get(_url(editing.preview_token(draft)))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview — not published" in html
    assert draft.title in html and "Do <strong>step 1</strong>." in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
    assert "ETag" not in response


def test_it_says_when_a_scheduled_article_will_appear(client: Any) -> None:
    when = (timezone.now() + timedelta(days=2)).replace(hour=9, minute=30)
    article = make_article("later", published_at=when)
    html = client.get(_url(editing.preview_token(article))).content.decode()
    assert f"Scheduled to appear on {when:%-d %B %Y}, 09:30 UTC" in html


def test_a_tampered_link_is_not_found(client: Any) -> None:
    draft = make_article(status="draft")
    other = make_article("other", status="draft")
    token = editing.preview_token(draft)
    forged = str(other.pk) + token[token.index(":") :]
    assert client.get(_url(forged)).status_code == 404
    assert client.get(_url("nonsense")).status_code == 404


def test_a_link_to_a_deleted_article_is_not_found(client: Any) -> None:
    draft = make_article(status="draft")
    token = editing.preview_token(draft)
    draft.delete()
    assert client.get(_url(token)).status_code == 404


class _SignedDaysAgo(signing.TimestampSigner):
    def __init__(self, days: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.days = days

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time() - self.days * 86400))


def test_a_link_expires_after_the_configured_days(client: Any, settings: Any) -> None:
    settings.PREVIEW_LINK_DAYS = 3
    draft = make_article(status="draft")
    fresh = _SignedDaysAgo(2.9, salt="helpcenter.draft-preview").sign(str(draft.pk))
    stale = _SignedDaysAgo(3.1, salt="helpcenter.draft-preview").sign(str(draft.pk))

    assert client.get(_url(fresh)).status_code == 200
    expired = client.get(_url(stale))
    assert expired.status_code == 410
    assert "This preview link has expired" in expired.content.decode()
    assert "no-store" in expired["Cache-Control"]


def test_the_change_form_offers_the_link(client: Any) -> None:
    client.force_login(make_editor())
    draft = make_article(status="draft")
    html = client.get(change_url(draft)).content.decode()
    found = re.search(r'data-copy="http://testserver/preview/([^/"]+)/"', html)
    assert found is not None
    assert editing.article_for_preview(found[1]) == draft
