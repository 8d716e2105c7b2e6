"""Revision history: which models keep versions, readable diffs, and safe restores.

django-reversion stores the versions; this module decides what an editor sees
and what a restore may do. A revision can hold many objects (an import saves
every changed article in one), so a restore never reverts a whole revision:
only the chosen object and the children it follows (an article's fixes and
FAQ, a rule's fixes), and only after checking that nothing it needs is gone
or taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import reversion
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from reversion.errors import RevertError
from reversion.models import Version
from reversion.revisions import _get_options

from helpcenter.diffs import FieldChange, diff_text
from helpcenter.models import Article, Category, FaqEntry, Fix, Service, SlugRedirect
from helpcenter.text import normalise_text

# Rendered copies, counters and stamps change with every save: diffing them
# would only repeat the source fields' changes (or show noise).
NEVER_COMPARED = {"version"}


def register_models() -> None:
    """Register the knowledge base with reversion; safe to call more than once.

    Called when the admin module loads (before its ModelAdmins are built, so
    VersionAdmin does not auto-register Article following every inline, such
    as old slugs, which a restore must never delete) and again from ready().
    """
    for model in (Fix, FaqEntry, Category, Service):
        if not reversion.is_registered(model):
            reversion.register(model)
    if not reversion.is_registered(Article):
        reversion.register(Article, follow=("fixes", "faq"))


def versions_for(obj: models.Model) -> models.QuerySet[Version]:
    """Every stored version of ``obj``, newest first."""
    return (
        Version.objects.get_for_object(obj)
        .select_related("revision", "revision__user")
        .order_by("-revision__date_created", "-pk")
    )


def describe_revision(version: Version) -> str:
    """'2026-01-02 03:04 by alice' — for comments and confirmation pages."""
    when = timezone.localtime(version.revision.date_created).strftime("%Y-%m-%d %H:%M")
    user = version.revision.user
    return f"{when} by {user.get_username() if user else 'an import or script'}"


# --- Diffs ------------------------------------------------------------------------


@dataclass
class ObjectChange:
    """A followed child (a fix, an FAQ entry, a rule's fix) between two versions."""

    kind: str  # model verbose name, e.g. "fix"
    label: str
    state: str  # "added", "removed" or "changed"
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class Comparison:
    old: Version
    new: Version
    fields: list[FieldChange]
    children: list[ObjectChange]

    @property
    def unchanged(self) -> bool:
        return not self.fields and not self.children


def compare(old: Version, new: Version) -> Comparison:
    """Field-by-field differences between two versions of the same object."""
    model = old._model
    fields = _diff_fields(model, old.field_dict, new.field_dict, parent=None)
    old_children = _child_versions(old)
    new_children = _child_versions(new)
    children: list[ObjectChange] = []
    for key, version in new_children.items():
        child_model = version._model
        parent = _parent_fk(child_model, model)
        previous = old_children.get(key)
        kind = str(child_model._meta.verbose_name)
        if previous is None:
            empty = dict.fromkeys(version.field_dict)
            added = _diff_fields(child_model, empty, version.field_dict, parent=parent)
            children.append(ObjectChange(kind, version.object_repr, "added", added))
            continue
        changed = _diff_fields(child_model, previous.field_dict, version.field_dict, parent=parent)
        if changed:
            children.append(ObjectChange(kind, version.object_repr, "changed", changed))
    for key, version in old_children.items():
        if key not in new_children:
            kind = str(version._model._meta.verbose_name)
            children.append(ObjectChange(kind, version.object_repr, "removed"))
    return Comparison(old=old, new=new, fields=fields, children=children)


def _compared_fields(
    model: type[models.Model], parent: models.ForeignKey[Any, Any] | None
) -> list[models.Field[Any, Any]]:
    fields: list[models.Field[Any, Any]] = []
    for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
        if f.primary_key or not f.editable or f.name in NEVER_COMPARED or f is parent:
            continue
        fields.append(f)
    return fields


def _diff_fields(
    model: type[models.Model],
    old: dict[str, Any],
    new: dict[str, Any],
    parent: models.ForeignKey[Any, Any] | None,
) -> list[FieldChange]:
    changes = []
    for f in _compared_fields(model, parent):
        before, after = old.get(f.attname), new.get(f.attname)
        if _normalise(before) == _normalise(after):
            continue
        old_text, new_text = display_value(f, before), display_value(f, after)
        changes.append(
            FieldChange(
                name=f.name,
                label=str(f.verbose_name).capitalize(),
                old=old_text,
                new=new_text,
                lines=diff_text(old_text, new_text),
            )
        )
    return changes


def _normalise(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return sorted(str(v) for v in value)
    if isinstance(value, str):
        # Versions stored before the models normalised text can differ from
        # newer ones only in CRLF or a trailing blank line: no real difference.
        return normalise_text(value)
    return value


def display_value(f: models.Field[Any, Any], value: Any) -> str:
    """A value as an editor would recognise it: choice labels, names of linked rows."""
    if value is None or value == "":
        return ""
    if f.many_to_many:
        related = f.related_model._default_manager.in_bulk(list(value))  # type: ignore[union-attr]
        return "\n".join(sorted(str(related.get(pk, _deleted(pk))) for pk in value))
    if f.is_relation:
        target = f.related_model._default_manager.filter(pk=value).first()  # type: ignore[union-attr]
        return str(target) if target is not None else _deleted(value)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _deleted(pk: Any) -> str:
    return gettext("#%(id)s (deleted)") % {"id": pk}


def _parent_fk(
    child: type[models.Model], parent: type[models.Model]
) -> models.ForeignKey[Any, Any] | None:
    for f in child._meta.concrete_fields:
        if isinstance(f, models.ForeignKey) and f.related_model is parent:
            return f
    return None


def _child_versions(version: Version) -> dict[tuple[int, str], Version]:
    """The versions of ``version``'s followed children stored in the same revision.

    Children are matched by foreign key to this object, so other articles in
    the same revision (an import saves many at once) stay out of it.
    """
    model = version._model
    children: dict[tuple[int, str], Version] = {}
    followed = [model._meta.get_field(name).related_model for name in _get_options(model).follow]
    types = ContentType.objects.get_for_models(*[m for m in followed if m is not None]).values()
    siblings = version.revision.version_set.filter(content_type__in=types).exclude(pk=version.pk)
    for other in sorted(siblings, key=lambda v: (v.content_type_id, _order_key(v))):
        parent = _parent_fk(other._model, model)
        if parent is None:
            continue
        if str(other.field_dict.get(parent.attname)) == str(version.object_id):
            children[(other.content_type_id, other.object_id)] = other
    return children


def _order_key(version: Version) -> tuple[int, int]:
    data = version.field_dict
    order = data.get("order", data.get("position", 0)) or 0
    return int(order), int(version.object_id) if version.object_id.isdigit() else 0


# --- Restore ----------------------------------------------------------------------


class RestoreError(Exception):
    """A restore that would break something; nothing was changed."""


def restore(version: Version, user: AbstractBaseUser | AnonymousUser | None) -> models.Model:
    """Make ``version`` (with its followed children) the current state, as a new revision.

    Everything happens in one transaction: a refused or failed restore leaves
    the database as it was.
    """
    model = version._model
    children = list(_child_versions(version).values())
    comment = f"Restored version from {describe_revision(version)}"
    if user is not None and user.is_authenticated:
        comment += f" by {user.get_username()}"
    try:
        with transaction.atomic():
            current = model._default_manager.select_for_update().filter(pk=version.object_id)
            obj = current.first()
            _check_unique(version, obj)
            _check_links([version, *children])
            before = _snapshot(obj)
            with reversion.create_revision(atomic=False):
                if user is not None and user.is_authenticated:
                    reversion.set_user(user)
                reversion.set_comment(comment)
                if obj is not None:
                    _delete_unfollowed_children(obj, {(v._model, v.object_id) for v in children})
                _revert_all([version, *children])
                restored = model._default_manager.get(pk=version.object_id)
                _after_restore(restored, children, before)
                reversion.add_to_revision(restored)
    except RevertError as exc:
        raise RestoreError(
            gettext("The version could not be restored: %(reason)s") % {"reason": exc}
        ) from None
    except IntegrityError as exc:
        raise RestoreError(
            gettext(
                "The version could not be restored: it conflicts with the current data "
                "(%(reason)s)."
            )
            % {"reason": exc}
        ) from None
    return restored


def _check_unique(version: Version, obj: models.Model | None) -> None:
    model = version._model
    data = version.field_dict
    for f in model._meta.concrete_fields:
        if not f.unique or f.primary_key:
            continue
        value = data.get(f.attname)
        if value in (None, ""):
            continue
        other = model._default_manager.filter(**{f.attname: value})
        if obj is not None:
            other = other.exclude(pk=obj.pk)
        taken = other.first()
        if taken is not None:
            name = model._meta.verbose_name
            raise RestoreError(
                gettext(
                    "Cannot restore this version: its %(field)s “%(value)s” is now used by "
                    "another %(model)s, “%(other)s” (id %(id)s). Change that %(model)s's "
                    "%(field)s first, or edit this one by hand. Nothing was changed."
                )
                % {
                    "field": f.verbose_name,
                    "value": value,
                    "model": name,
                    "other": taken,
                    "id": taken.pk,
                }
            )


def _check_links(versions: list[Version]) -> None:
    """Refuse when a version points at a row that no longer exists (a deleted category, fix…)."""
    restored = {(v._model, str(v.object_id)) for v in versions}
    for version in versions:
        data = version.field_dict
        for f in [*version._model._meta.concrete_fields, *version._model._meta.many_to_many]:
            if not f.is_relation or f.related_model is None:
                continue
            target: Any = f.related_model
            value = data.get(f.attname)
            wanted = list(value) if f.many_to_many and value else [value] if value else []
            for pk in wanted:
                if (target, str(pk)) in restored:
                    continue
                if not target._default_manager.filter(pk=pk).exists():
                    raise RestoreError(
                        gettext(
                            "Cannot restore this version: its %(field)s (a %(model)s, id "
                            "%(id)s) has been deleted since. Nothing was changed."
                        )
                        % {"field": f.verbose_name, "model": target._meta.verbose_name, "id": pk}
                    )


def _snapshot(obj: models.Model | None) -> dict[str, Any]:
    """What a restore must carry over from the current row: slugs and the lock counter."""
    if obj is None:
        return {}
    slugs: dict[tuple[type[models.Model], Any], str] = {}
    if isinstance(obj, Article):
        slugs[(Article, obj.pk)] = obj.slug
        slugs.update({(Fix, fix.pk): fix.slug for fix in obj.fixes.all()})
    return {"slugs": slugs, "version": getattr(obj, "version", None)}


def _delete_unfollowed_children(obj: models.Model, keep: set[tuple[Any, str]]) -> None:
    """Delete children that were added after the version (reversion's delete=True, narrowed)."""
    for name in _get_options(type(obj)).follow:
        related = getattr(obj, name)
        if not hasattr(related, "all"):
            continue
        for child in related.all():
            if (type(child), str(child.pk)) not in keep:
                child.delete()


def _revert_all(versions: Iterable[Version]) -> None:
    # Rows can depend on each other (unique slugs swapped between two fixes):
    # retry the ones that failed until a round makes no progress.
    pending = list(versions)
    while pending:
        failed: list[Version] = []
        error: Exception | None = None
        for version in pending:
            try:
                with transaction.atomic():
                    version.revert()
            except (IntegrityError, models.ProtectedError) as exc:
                failed.append(version)
                error = exc
        if len(failed) == len(pending):
            raise RevertError(f"{failed[0].object_repr}: {error}")
        pending = failed


def _after_restore(obj: models.Model, children: list[Version], before: dict[str, Any]) -> None:
    """Run the normal save path again: reversion writes rows raw, without our save()."""
    if before.get("version") is not None:
        # The restored row carries the lock counter of its time; put back the
        # current one so save() moves it forward and every open form goes stale.
        type(obj)._default_manager.filter(pk=obj.pk).update(version=before["version"])
        obj.version = before["version"]  # type: ignore[attr-defined]
    slugs: dict[tuple[Any, Any], str] = before.get("slugs", {})
    for child_version in children:
        child = child_version._model._default_manager.filter(pk=child_version.object_id).first()
        if child is None:
            continue
        old_slug = slugs.get((type(child), child.pk))
        child.save()
        if isinstance(child, Fix) and old_slug and old_slug != child.slug:
            SlugRedirect.objects.create(article_id=child.article_id, fix=child, old_slug=old_slug)
    old_slug = slugs.get((type(obj), obj.pk))
    obj.save()
    if isinstance(obj, Article) and old_slug and old_slug != obj.slug:
        SlugRedirect.objects.create(article=obj, old_slug=old_slug)
