"""Link-preview images: one 1200 by 630 PNG per article and per fix, drawn with Pillow.

A card shows the page's title, the guide it belongs to and the site name. Its
file name carries a hash of exactly what it shows, so a new title means a new
URL and previewers that cached the old image fetch the new one; the file can
therefore be cached for a year. Files are only a cache of what the database
says: `serve` draws a missing one again, so a fresh disk, a restored backup or
a second web node all answer without a step of their own.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from helpcenter.models import Article, Category, Fix

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

SIZE = (1200, 630)
# Part of every hash: bump it when the drawing changes so every image gets a new URL.
DESIGN = "1"
FONTS = Path(__file__).resolve().parent / "fonts"
NAME_RE = re.compile(r"^(?P<kind>article|fix)-(?P<pk>[0-9]{1,12})-(?P<digest>[0-9a-f]{16})\.png$")

BACKGROUND = (11, 46, 82)  # deep blue: white text on it has a contrast ratio above 12:1
STRIPE = (125, 184, 242)
TITLE = (255, 255, 255)
CONTEXT = (214, 230, 246)  # light blue on the background: about 10:1
MARGIN = 80


@dataclass(frozen=True)
class ShareCard:
    """What one page's image shows, and so what its name is derived from."""

    kind: str  # "article" or "fix"
    pk: int
    title: str
    context: str  # the guide (for a fix) or the category (for an article)

    @property
    def digest(self) -> str:
        shown = "\n".join([DESIGN, self.title, self.context, settings.SITE_NAME])
        return hashlib.sha256(shown.encode()).hexdigest()[:16]

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.pk}-{self.digest}.png"

    @property
    def path(self) -> Path:
        return folder() / self.filename

    @property
    def url(self) -> str:
        return reverse("share_image", kwargs={"name": self.filename})


def folder() -> Path:
    return Path(settings.MEDIA_ROOT) / "share"


def guide_name(article: Article) -> str:
    return article.short_title or article.title


def article_card(article: Article) -> ShareCard:
    category = article.category.title if article.category_id and article.category else ""
    return ShareCard("article", article.pk, article.title, category)


def fix_card(fix: Fix) -> ShareCard:
    return ShareCard("fix", fix.pk, fix.title, f"Fixing {guide_name(fix.article)}")


# --- Drawing --------------------------------------------------------------------


@cache
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont  # here, not at import: see render()

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """Greedy word wrap; Pillow measures but does not wrap."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def _fit(
    draw: ImageDraw.ImageDraw, text: str, width: int, max_lines: int
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest title size at which the text fits; at the smallest, cut with an ellipsis."""
    for size in (72, 64, 56, 48, 42):
        font = _font(True, size)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    lines = lines[:max_lines]
    while lines[-1] and draw.textlength(lines[-1] + "…", font=font) > width:
        lines[-1] = lines[-1].rsplit(" ", 1)[0] if " " in lines[-1] else lines[-1][:-1]
    lines[-1] += "…"
    return font, lines


def render(card: ShareCard) -> bytes:
    # Pillow is imported when a card is drawn (a save, or a card missing on disk),
    # not when the site starts: every web worker would carry its ~7 MB for a
    # drawing most of them never make.
    from PIL import Image, ImageDraw

    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SIZE[0] - 2 * MARGIN
    draw.rectangle((0, 0, 16, SIZE[1]), fill=STRIPE)

    small = _font(False, 34)
    context = _wrap(draw, card.context, small, width)[:2] if card.context else []
    y = MARGIN
    for line in context:
        draw.text((MARGIN, y), line, font=small, fill=CONTEXT)
        y += 46
    font, lines = _fit(draw, card.title, width, max_lines=4)
    y += 24
    step = int(font.size * 1.2)
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=TITLE)
        y += step

    site = _font(True, 36)
    draw.line((MARGIN, SIZE[1] - 130, SIZE[0] - MARGIN, SIZE[1] - 130), fill=STRIPE, width=3)
    draw.text((MARGIN, SIZE[1] - 100), settings.SITE_NAME, font=site, fill=TITLE)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- Files ----------------------------------------------------------------------


def ensure(card: ShareCard) -> Path:
    """Draw the card's file if it is missing, and then remove the same page's older images.

    An existing file costs one stat: this runs on every image request.
    """
    path = card.path
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader never sees half a PNG.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(render(card))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)  # only left when something failed
    for old in path.parent.glob(f"{card.kind}-{card.pk}-*.png"):
        if old.name != path.name:
            old.unlink(missing_ok=True)
    return path


def remove(kind: str, pk: int) -> None:
    for old in folder().glob(f"{kind}-{pk}-*.png"):
        old.unlink(missing_ok=True)


def refresh_after_commit(cards: list[ShareCard]) -> None:
    """Draw after the transaction commits: a rolled-back save leaves no file behind."""
    transaction.on_commit(lambda: [ensure(card) for card in cards])


def refresh_article(article: Article) -> None:
    """An article's image and its fixes' (they show the guide's name)."""
    fixes = list(article.fixes.all())
    for fix in fixes:
        fix.article = article
    refresh_after_commit([article_card(article), *(fix_card(fix) for fix in fixes)])


def ensure_all() -> int:
    """Draw every page's missing image (rows from before images, or a fresh MEDIA_ROOT)."""
    cards = [article_card(a) for a in Article.objects.select_related("category")]
    cards += [fix_card(f) for f in Fix.objects.select_related("article")]
    missing = [card for card in cards if not card.path.exists()]
    for card in missing:
        ensure(card)
    return len(missing)


def current_card(name: str) -> ShareCard | None:
    """The card a file name belongs to, if it is the current image of a public page."""
    match = NAME_RE.match(name)
    if match is None:
        return None
    pk = int(match["pk"])
    card: ShareCard | None = None
    if match["kind"] == "article":
        article = Article.objects.select_related("category").filter(pk=pk).first()
        card = article_card(article) if article and article.is_public else None
    else:
        fix = Fix.objects.select_related("article").filter(pk=pk).first()
        card = fix_card(fix) if fix and fix.article.is_public else None
    return card if card is not None and card.filename == name else None


def connect_signals() -> None:
    """Redraw a page's image after a save, and delete its files once its row is gone.

    Signals, so the models never import this module (it reads them back).
    """
    from django.db.models.signals import post_delete, post_save

    for model, kind in ((Article, "article"), (Fix, "fix")):
        post_delete.connect(_deleted(kind), sender=model, weak=False, dispatch_uid=f"share-{kind}")
    post_save.connect(_article_saved, sender=Article, dispatch_uid="share-article-saved")
    post_save.connect(_fix_saved, sender=Fix, dispatch_uid="share-fix-saved")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="share-category-saved")


# raw: fixture loading (loaddata) saves rows as they are, and drew nothing before either.
def _article_saved(instance: Article, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        refresh_article(instance)


def _fix_saved(instance: Fix, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        refresh_after_commit([fix_card(instance)])


def _category_saved(instance: Category, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    # Article share images name their category.
    for article in instance.articles.all():
        article.category = instance
        refresh_after_commit([article_card(article)])


def _deleted(kind: str) -> Any:
    def receiver(instance: Any, **kwargs: Any) -> None:
        pk = instance.pk
        transaction.on_commit(lambda: remove(kind, pk))

    return receiver
