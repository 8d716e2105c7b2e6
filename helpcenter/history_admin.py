"""History, compare and restore in the admin, as a mixin for any ModelAdmin.

Built on reversion's VersionAdmin (every admin save becomes a revision with
its user), but its own revert and recover screens are replaced: they revert a
whole revision, and one revision can hold every article an import touched.
Ours restore just the chosen object and what it follows, after checks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from reversion.admin import VersionAdmin
from reversion.models import Version

from helpcenter import history

# Before any ModelAdmin using the mixin is built: see register_models().
history.register_models()


class HistoryAdminMixin(VersionAdmin):
    object_history_template: ClassVar[Any] = "admin/history/object_history.html"
    history_latest_first = True

    def _history_url(self, name: str, *args: Any) -> str:
        opts = self.model._meta
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{name}", args=args
        )

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        info = f"{opts.app_label}_{opts.model_name}"
        wrap = self.admin_site.admin_view
        own = [
            path(
                "<path:object_id>/history/compare/",
                wrap(self.compare_view),
                name=f"{info}_compare",
            ),
            path(
                "<path:object_id>/history/<int:version_id>/restore/",
                wrap(self.restore_view),
                name=f"{info}_restore",
            ),
        ]
        return own + super().get_urls()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # An existing object is saved in save_related(), once it is known whether
        # the form or any inline changed at all.
        if not change:
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Pressing Save on an unchanged form must not record a version: every
        # save of a registered model becomes one, and history would fill with
        # entries that change nothing.
        if change and (form.has_changed() or any(fs.has_changed() for fs in formsets)):
            super().save_model(request, form.instance, form, change)
        super().save_related(request, form, formsets, change)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        versions = list(history.versions_for(obj))
        rows = [
            {
                "version": version,
                "revision": version.revision,
                "restore_url": self._history_url("restore", quote(obj.pk), version.pk),
                "latest": i == 0,
            }
            for i, version in enumerate(versions)
        ]
        context = {
            "history_rows": rows,
            "compare_url": self._history_url("compare", quote(obj.pk)),
            "can_restore": self.has_change_permission(request, obj),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, context)

    def compare_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        ids = request.GET.getlist("version")
        ids += [value for value in (request.GET.get("a"), request.GET.get("b")) if value]
        chosen = list(history.versions_for(obj).filter(pk__in=[i for i in ids if i.isdigit()]))
        if len(chosen) != 2:
            messages.warning(request, gettext("Choose two versions to compare."))
            return HttpResponseRedirect(self._history_url("history", quote(obj.pk)))
        new, old = chosen  # versions_for() lists newest first
        return TemplateResponse(
            request,
            "admin/history/compare.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Compare versions of %(object)s") % {"object": obj},
                "opts": self.model._meta,
                "original": obj,
                "comparison": history.compare(old, new),
                "old_label": history.describe_revision(old),
                "new_label": history.describe_revision(new),
                "history_url": self._history_url("history", quote(obj.pk)),
                "restore_url": self._history_url("restore", quote(obj.pk), old.pk),
                "can_restore": self.has_change_permission(request, obj),
            },
        )

    def restore_view(self, request: HttpRequest, object_id: str, version_id: int) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        version = get_object_or_404(history.versions_for(obj), pk=version_id)
        latest = history.versions_for(obj).first()
        error = ""
        if request.method == "POST":
            try:
                history.restore(version, request.user)
            except history.RestoreError as exc:
                error = str(exc)
                messages.error(request, error)
            else:
                messages.success(
                    request,
                    gettext("Restored the version from %(saved)s.")
                    % {"saved": history.describe_revision(version)},
                )
                return HttpResponseRedirect(self._history_url("change", quote(obj.pk)))
        return TemplateResponse(
            request,
            "admin/history/restore.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Restore %(object)s") % {"object": obj},
                "opts": self.model._meta,
                "original": obj,
                "version_label": history.describe_revision(version),
                # What restoring changes, read as "from the latest to the chosen one".
                "comparison": history.compare(latest, version) if latest else None,
                "history_url": self._history_url("history", quote(obj.pk)),
                "error": error,
            },
            status=409 if error else 200,
        )

    def revision_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # reversion's own screen reverts the whole revision: send it to ours.
        return HttpResponseRedirect(self._history_url("restore", object_id, version_id))

    def recover_view(
        self, request: HttpRequest, version_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Bring back a deleted object (with its followed children) from its last version."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        version = get_object_or_404(
            Version.objects.get_deleted(self.model).select_related("revision"), pk=version_id
        )
        if request.method == "POST":
            try:
                obj = history.restore(version, request.user)
            except history.RestoreError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, gettext("Recovered “%(object)s”.") % {"object": obj})
                return HttpResponseRedirect(self._history_url("change", quote(obj.pk)))
        return TemplateResponse(
            request,
            "admin/history/restore.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Recover %(object)s") % {"object": version.object_repr},
                "opts": self.model._meta,
                "version_label": history.describe_revision(version),
                "comparison": None,
                "history_url": self._history_url("changelist"),
                "error": "",
            },
        )
