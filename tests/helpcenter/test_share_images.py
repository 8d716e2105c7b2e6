"""Share images: one PNG per article and fix, drawn on save, named by what it shows."""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image

from helpcenter import share_images
from helpcenter.models import Article, Fix
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

SITE = settings.SITE_URL.rstrip("/")


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run on-commit callbacks (the drawing) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _image_url(client: Any, page: str) -> str:
    body = client.get(page).content.decode()
    match = re.search(r'<meta property="og:image" content="([^"]*)"', body)
    assert match
    twitter = re.search(r'<meta name="twitter:image" content="([^"]*)"', body)
    assert twitter and twitter.group(1) == match.group(1)
    return html.unescape(match.group(1))


def _fetch(client: Any, url: str) -> bytes:
    response = client.get(url.removeprefix(SITE))
    assert response.status_code == 200, url
    assert response["Content-Type"] == "image/png"
    return b"".join(response.streaming_content)


def _files(media_root: Path) -> set[str]:
    return {p.name for p in (media_root / "share").glob("*.png")}


def test_every_article_and_fix_gets_its_own_1200_by_630_png(
    client: Any, on_commit: Any, media_root: Path
) -> None:
    with on_commit():
        article = make_article(fixes=2)
    pages = [article.get_absolute_url(), *(fix.get_absolute_url() for fix in article.fixes.all())]
    urls = [_image_url(client, page) for page in pages]

    assert len(set(urls)) == 3
    assert all(url.startswith(f"{SITE}/media/share/") for url in urls)
    assert _files(media_root) == {url.rsplit("/", 1)[1] for url in urls}
    images = [_fetch(client, url) for url in urls]
    assert len(set(images)) == 3
    for data in images:
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size) == ("PNG", (1200, 630))


def test_two_fixes_with_the_same_title_still_get_two_images(client: Any, on_commit: Any) -> None:
    with on_commit():
        article = make_article(fixes=2)
        Fix.objects.filter(article=article).update(title="Same words")
        for fix in article.fixes.all():
            fix.save()
    urls = {_image_url(client, fix.get_absolute_url()) for fix in article.fixes.all()}
    assert len(urls) == 2


def test_a_new_title_gives_a_new_image_at_a_new_url_and_drops_the_old(
    client: Any, on_commit: Any, media_root: Path
) -> None:
    with on_commit():
        article = make_article(fixes=2)
    fix = article.fixes.get(slug="step-2")
    old_url = _image_url(client, fix.get_absolute_url())
    old_image = _fetch(client, old_url)

    with on_commit():
        fix.title = "Clear the site's cookies"
        fix.save()
    page = client.get(fix.get_absolute_url()).content.decode()
    new_url = _image_url(client, fix.get_absolute_url())

    assert new_url != old_url
    assert old_url not in page and old_url.removeprefix(SITE) not in page
    assert _fetch(client, new_url) != old_image
    assert old_url.rsplit("/", 1)[1] not in _files(media_root)
    assert client.get(old_url.removeprefix(SITE)).status_code == 404


def test_renaming_the_guide_redraws_its_fixes_images(client: Any, on_commit: Any) -> None:
    with on_commit():
        article = make_article(fixes=1)
    fix = article.fixes.get()
    before = _image_url(client, fix.get_absolute_url())
    with on_commit():
        article.short_title = "ChatGPT error 1020"
        article.save()
    after = _image_url(client, fix.get_absolute_url())
    assert after != before
    assert client.get(after.removeprefix(SITE)).status_code == 200


def test_images_are_served_for_a_year_and_only_for_public_pages(
    client: Any, on_commit: Any
) -> None:
    with on_commit():
        public = make_article()
        draft = make_article("draft-guide", status="draft")
    response = client.get(share_images.article_card(public).url)
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(share_images.article_card(draft).url).status_code == 404
    assert client.get("/media/share/fix-1-0123456789abcdef.png").status_code == 404
    assert client.get("/media/share/..%2Fdb.sqlite3").status_code == 404


def test_a_missing_file_is_drawn_again_when_asked_for(client: Any, media_root: Path) -> None:
    # Without on-commit callbacks nothing is drawn: as on a fresh disk or a second web node.
    article = make_article(fixes=1)
    assert _files(media_root) == set()
    url = _image_url(client, article.get_absolute_url())
    assert Image.open(io.BytesIO(_fetch(client, url))).size == (1200, 630)
    assert url.rsplit("/", 1)[1] in _files(media_root)


def test_setup_draws_the_images_of_rows_that_have_none(media_root: Path) -> None:
    make_article(fixes=2)
    assert _files(media_root) == set()
    assert share_images.ensure_all() == 3
    assert len(_files(media_root)) == 3
    assert share_images.ensure_all() == 0


def test_deleting_a_page_deletes_its_images(on_commit: Any, media_root: Path) -> None:
    with on_commit():
        article = make_article(fixes=2)
    assert len(_files(media_root)) == 3
    with on_commit():
        Article.objects.filter(pk=article.pk).delete()
    assert _files(media_root) == set()


def _luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_text_stands_out_from_the_background() -> None:
    card = share_images.ShareCard("fix", 1, "Clear the site's cookies", "Fixing error 1020")
    image = Image.open(io.BytesIO(share_images.render(card))).convert("RGB")
    colours = Counter(image.get_flattened_data())
    background = colours.most_common(1)[0][0]
    text = max(colours, key=_luminance)
    lighter, darker = sorted([_luminance(text), _luminance(background)], reverse=True)
    # WCAG AAA asks 7:1 for normal text; a preview is often shown small.
    assert (lighter + 0.05) / (darker + 0.05) >= 7


def test_a_long_title_is_cut_to_fit_not_drawn_off_the_card() -> None:
    card = share_images.ShareCard("article", 1, "word " * 200, "Errors")
    image = Image.open(io.BytesIO(share_images.render(card))).convert("RGB")
    right_margin = image.crop((1200 - 60, 0, 1200, 630))
    assert set(right_margin.get_flattened_data()) == {share_images.BACKGROUND}
