"""Editing in the admin: live preview, optimistic locking, signed draft links, the Editor role.

The admin classes and views stay thin; what they decide lives here so it can be
tested without a browser.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext

from helpcenter.diffs import FieldChange, diff_text
from helpcenter.markdown import (
    MarkdownTooLarge,
    add_heading_ids,
    render_inline,
    render_markdown,
)
from helpcenter.models import Article, FaqEntry, Fix
from helpcenter.text import normalise_text

logger = logging.getLogger(__name__)

# --- Live preview -----------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    html: str = ""
    problems: tuple[str, ...] = ()
    # Set when the text cannot be rendered at all (too large, nested too deeply).
    error: str = ""


@dataclass(frozen=True)
class UnsavedPage:
    """An article as the editor's form holds it, rendered, never saved."""

    article: Article
    fixes: list[Fix]
    faq: list[FaqEntry]


def unsaved_page(data: Mapping[str, str], original: Article | None) -> UnsavedPage:
    """The article, fixes and FAQ from the admin form's POST, rendered as saving would.

    The same model render() methods and text spelling as a save, so the page the
    editor previews is the page that saving would publish. Rows marked for
    deletion, and empty extra rows, are left out, as saving would.
    """
    article = Article(
        pk=original.pk if original else None,
        title=normalise_text(data.get("title", "")),
        slug=data.get("slug", "") or (original.slug if original else "preview"),
        summary=normalise_text(data.get("summary", "")),
        body=with_heading_ids(normalise_text(data.get("body", ""))),
        status=data.get("status", Article.Status.DRAFT),
        updated_at=original.updated_at if original else timezone.now(),
        # The page around the text names the guide's service (its crowd and live slots).
        service_id=int(data["service"]) if str(data.get("service", "")).isdigit() else None,
    )
    article.render()
    fixes = [
        Fix(
            article=article,
            title=normalise_text(row.get("title", "")),
            slug=row.get("slug", ""),
            summary=normalise_text(row.get("summary", "")),
            body=with_heading_ids(normalise_text(row.get("body", ""))),
            order=_number(row.get("order")),
        )
        for row in _formset_rows(data, "fixes")
        if row.get("title") or row.get("body")
    ]
    for fix in fixes:
        fix.render()
    fixes.sort(key=lambda fix: fix.order)
    faq = [
        FaqEntry(
            article=article,
            question=normalise_text(row.get("question", "")),
            answer=normalise_text(row.get("answer", "")),
            order=_number(row.get("order")),
        )
        for row in _formset_rows(data, "faq")
        if row.get("question") or row.get("answer")
    ]
    for entry in faq:
        entry.render()
    faq.sort(key=lambda entry: entry.order)
    return UnsavedPage(article, fixes, faq)


def _formset_rows(data: Mapping[str, str], prefix: str) -> list[dict[str, str]]:
    total = _number(data.get(f"{prefix}-TOTAL_FORMS"))
    rows = []
    for index in range(min(total, 200)):  # an admin formset, never thousands of rows
        start = f"{prefix}-{index}-"
        row = {
            key.removeprefix(start): value for key, value in data.items() if key.startswith(start)
        }
        if not row.get("DELETE"):
            rows.append(row)
    return rows


def _number(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def render_preview(text: str, mode: str = "block") -> Preview:
    """The HTML the public page will show for ``text``, from the very same renderer.

    ``mode`` "inline" is how FAQ answers are rendered (render_inline); anything
    else is an article or fix body (render_markdown), shown as saving will store
    it (headings given their ids), with its problems beside the preview.
    """
    try:
        if mode == "inline":
            return Preview(html=render_inline(text))
        ids = add_heading_ids(text, RESERVED_IDS)
        rendered = render_markdown(ids.source)
    except MarkdownTooLarge as exc:
        return Preview(error=str(exc))
    notes = tuple(
        gettext("Heading %(title)s gets the link id #%(id)s when you save.")
        % {"title": repr(title), "id": new_id}
        for title, new_id in ids.added
    )
    return Preview(
        html=rendered.html,
        problems=(*rendered.problems, *image_problems(rendered.html), *notes),
    )


# Ids the article page itself uses (health.ARTICLE_PAGE_IDS): a heading must not take one.
RESERVED_IDS = frozenset({"main", "fixes", "faq", "related", "toc-heading", "other-fixes"})


def with_heading_ids(text: str) -> str:
    """``text`` as a save stores it: every heading with an id, for links that last."""
    try:
        return add_heading_ids(text, RESERVED_IDS).source
    except MarkdownTooLarge:
        return text  # the form refuses it with the reason


def prepare_body(text: str) -> tuple[str, list[str]]:
    """An article or fix body as it will be saved, and why it cannot be; no reasons if it can.

    A heading written without an id gets one from its text (kept in the text from
    then on, so rewording the heading does not break links to it). Images must
    come from this site and be described for readers who cannot see them.
    """
    try:
        ids = add_heading_ids(text, RESERVED_IDS)
        rendered = render_markdown(ids.source)
    except MarkdownTooLarge as exc:
        return text, [str(exc)]
    errors = [
        gettext("Heading %(title)s could not be given an id: write it as '## %(text)s {#some-id}'.")
        % {"title": repr(title), "text": title}
        for title in rendered.missing_ids
    ]
    return ids.source, errors + image_problems(rendered.html)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.found.append(dict(attrs))


def image_problems(rendered_html: str) -> list[str]:
    """Images a reader would miss: from another site (the sanitiser dropped them) or undescribed."""
    parser = _Images()
    parser.feed(rendered_html)
    parser.close()
    problems = []
    for number, image in enumerate(parser.found, start=1):
        alt = (image.get("alt") or "").strip()
        if alt:
            name = gettext("Image %(number)d (%(alt)s)") % {"number": number, "alt": repr(alt)}
        else:
            name = gettext("Image %(number)d") % {"number": number}
        if not image.get("src"):
            problems.append(
                gettext(
                    "%(image)s is not from this site and will not show: "
                    "upload it with the Image button."
                )
                % {"image": name}
            )
        if not alt:
            problems.append(
                gettext(
                    "%(image)s has no description: say what it shows, "
                    "for readers who cannot see it."
                )
                % {"image": name}
            )
    return problems


def snippet_errors(text: str) -> list[str]:
    try:
        render_inline(text)
    except MarkdownTooLarge as exc:
        return [str(exc)]
    return []


# --- Optimistic locking -----------------------------------------------------------

# What the conflict message compares; the body and title are what people fight over.
TRACKED_FIELDS = ("title", "slug", "summary", "status", "published_at", "body")


@dataclass(frozen=True)
class EditState:
    """The article as an editor's form was loaded: carried in a hidden field."""

    version: int
    title: str = ""
    slug: str = ""
    summary: str = ""
    status: str = ""
    published_at: str = ""
    body: str = ""

    @classmethod
    def of(cls, article: Article) -> EditState:
        # To the second: the admin widget drops microseconds, which is no change.
        when = article.published_at
        published = when.replace(microsecond=0).isoformat() if when else ""
        return cls(
            version=article.version,
            title=article.title,
            slug=article.slug,
            summary=article.summary,
            status=article.status,
            published_at=published,
            body=article.body,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> EditState | None:
        """None for an empty or unreadable value (a form from before locking existed)."""
        try:
            data = json.loads(raw)
            return cls(**{key: data[key] for key in ("version", *TRACKED_FIELDS)})
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class Conflict:
    """Someone saved the article after this form was loaded."""

    current: EditState
    saved_by: str
    saved_at: datetime | None
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)

    @property
    def message(self) -> str:
        rest = gettext(
            "Nothing was saved: your text is still in the form. Compare it with their "
            "changes below, merge what you need, and save again to replace their version."
        )
        if self.saved_at is None:
            saved = gettext("%(name)s saved this article, after you opened it.") % {
                "name": self.saved_by
            }
        else:
            saved = gettext("%(name)s saved this article at %(time)s UTC, after you opened it.") % {
                "name": self.saved_by,
                "time": f"{self.saved_at:%Y-%m-%d %H:%M}",
            }
        return f"{saved} {rest}"


def find_conflict(article_pk: int, loaded: EditState | None) -> Conflict | None:
    """Lock the stored row and compare its version with the one the form was loaded with.

    Call inside the save's transaction (the admin's change view is atomic): the
    row lock (PostgreSQL; SQLite's IMMEDIATE transactions serialise writers)
    keeps a second save from slipping in between this check and the write.
    """
    row = Article.objects.select_for_update().filter(pk=article_pk).first()
    if row is None or loaded is None or row.version == loaded.version:
        return None
    current = EditState.of(row)
    return Conflict(
        current=current,
        saved_by=_last_editor(row),
        saved_at=row.updated_at,
        changes=tuple(_changes(loaded, current)),
    )


def _last_editor(article: Article) -> str:
    # The admin logs every change it saves, in the same transaction as the row;
    # a log entry older than the row means the last save came from elsewhere
    # (the importer, a restore, the shell) and we do not know who made it.
    entry = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Article),
            object_id=str(article.pk),
            action_flag=CHANGE,
            action_time__gte=article.updated_at,
        )
        .select_related("user")
        .order_by("-action_time")
        .first()
    )
    if entry is None:
        return gettext("Someone else")
    user = entry.user
    return user.get_full_name() or user.get_username()


def _changes(before: EditState, after: EditState) -> list[FieldChange]:
    changes = []
    for name in TRACKED_FIELDS:
        old, new = str(getattr(before, name)), str(getattr(after, name))
        if old == new:
            continue
        long_text = name in ("body", "summary") or "\n" in old or "\n" in new
        changes.append(
            FieldChange(
                name=name,
                label=name.replace("_", " "),
                old=old,
                new=new,
                lines=diff_text(old, new, context=2) if long_text else (),
            )
        )
    return changes


# --- Signed preview links -----------------------------------------------------------

_PREVIEW_SALT = "helpcenter.draft-preview"


class PreviewLinkInvalid(Exception):
    """The link was not made by this site, or its article is gone."""


class PreviewLinkExpired(Exception):
    """The link was made by this site but is older than PREVIEW_LINK_DAYS."""


def preview_link_days() -> int:
    return settings.PREVIEW_LINK_DAYS


def preview_token(article: Article) -> str:
    """A token that shows ``article`` (draft or not) to anyone who has it, until it expires."""
    return signing.TimestampSigner(salt=_PREVIEW_SALT).sign(str(article.pk))


def article_for_preview(token: str) -> Article:
    signer = signing.TimestampSigner(salt=_PREVIEW_SALT)
    try:
        pk = signer.unsign(token, max_age=preview_link_days() * 86400)
    except signing.SignatureExpired:
        raise PreviewLinkExpired from None
    except signing.BadSignature:
        raise PreviewLinkInvalid from None
    article = Article.objects.select_related("category").filter(pk=int(pk)).first()
    if article is None:
        raise PreviewLinkInvalid
    return article


# --- Roles --------------------------------------------------------------------------

EDITOR_GROUP = "Editor"
# Editors write and publish the knowledge base and decide which findings point
# to which fixes. Nothing on auth.* (users, groups) or diagnostics.Target (what
# the server probes): those stay with admins (superusers).
EDITOR_PERMISSIONS = (
    *(
        f"helpcenter.{action}_{model}"
        for model in ("article", "fix", "faqentry", "category", "synonymset")
        for action in ("add", "change", "delete", "view")
    ),
    # Old slugs are recorded automatically; an editor may free one on purpose.
    "helpcenter.view_slugredirect",
    "helpcenter.delete_slugredirect",
    *(
        f"diagnostics.{action}_{model}"
        for model in ("rule", "rulefix")
        for action in ("add", "change", "delete", "view")
    ),
)


def ensure_editor_group(using: str = DEFAULT_DB_ALIAS, apps: Any = global_apps) -> None:
    """Create the Editor group and give it EDITOR_PERMISSIONS; safe to run again.

    Only adds: permissions an admin gave or took away by hand since are their
    decision, except that a removed one from this list comes back on migrate.

    Runs after every migrate. Permissions of apps migrated later in the same run
    may not exist yet, so they are created first (Django's own handler does the
    same, idempotently).
    """
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    labels = {name.split(".", 1)[0] for name in EDITOR_PERMISSIONS}
    for label in labels:
        try:
            create_permissions(global_apps.get_app_config(label), verbosity=0, using=using)
        except LookupError:
            logger.warning("Editor role: app %s is not installed", label)
    wanted = []
    for name in EDITOR_PERMISSIONS:
        label, codename = name.split(".", 1)
        perm = (
            Permission.objects.using(using)
            .filter(content_type__app_label=label, codename=codename)
            .first()
        )
        if perm is None:
            logger.warning("Editor role: permission %s does not exist", name)
            continue
        wanted.append(perm)
    group, _ = Group.objects.using(using).get_or_create(name=EDITOR_GROUP)
    group.permissions.add(*wanted)
