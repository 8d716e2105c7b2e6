"""Admin forms: refuse what the public page could not show, and saves over someone else's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import QueryDict
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from helpcenter import editing, login_throttle
from helpcenter.models import Article, FaqEntry, Fix
from helpcenter.text import normalise_text


class TextField(forms.CharField):
    """A textarea's value in one spelling, so comparing it with the stored text is fair."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The models' spelling (helpcenter.text.stored_text) keeps the first
        # line's indentation; stripping it here would differ from what is stored.
        kwargs["strip"] = False
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> str:
        return normalise_text(super().to_python(value) or "")

    def has_changed(self, initial: Any, data: Any) -> bool:
        # A row stored before text was normalised (CRLF, a trailing newline) is
        # not changed by being shown and posted back.
        return normalise_text(initial or "") != self.to_python(data)


# Search engines and link previews show roughly this many characters of a summary.
SUMMARY_SHOWN_CHARS = 160


def _summary_help() -> str:
    return gettext(
        "Shown as the search snippet and the link description; about the first "
        "%(count)d characters appear there."
    ) % {"count": SUMMARY_SHOWN_CHARS}


# Lazy: the form classes are built at import, before any language is active.
SUMMARY_HELP = lazy(_summary_help, str)()

# The toolbar above the body writes the Markdown; without JavaScript this says how.
BODY_HELP = _(
    "Markdown. The toolbar inserts headings, browser tabs, tip boxes, collapsible blocks, "
    "links and images. A heading written without an id (## Title) gets one when you save."
)


def _wide_widgets(summary_widget: type[forms.Widget]) -> dict[str, forms.Widget]:
    """Title and summary as wide as the form, the summary with a length counter."""
    summary_attrs = {"class": "editor-wide editor-summary", "data-shown-chars": SUMMARY_SHOWN_CHARS}
    if summary_widget is forms.Textarea:
        summary_attrs["rows"] = 3
    return {
        "title": forms.TextInput(attrs={"class": "vTextField editor-wide"}),
        "summary": summary_widget(attrs=summary_attrs),
    }


class ArticleAdminForm(forms.ModelForm):
    # The article as this form was loaded (version and the texts people edit),
    # so a save over a newer version is refused with a diff of what changed.
    loaded_state = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Article
        fields = "__all__"  # noqa: DJ007 -- the admin's fieldsets choose what is shown
        field_classes = {"body": TextField, "summary": TextField}
        widgets = _wide_widgets(forms.Textarea)
        help_texts = {"summary": SUMMARY_HELP, "body": BODY_HELP}
        error_messages = {
            "slug": {"unique": _("Another article already uses this slug: choose a different one.")}
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conflict: editing.Conflict | None = None
        if self.instance.pk is not None:
            self.fields["loaded_state"].initial = editing.EditState.of(self.instance).to_json()

    def clean_body(self) -> str:
        body, errors = editing.prepare_body(self.cleaned_data.get("body", ""))
        if errors:
            raise forms.ValidationError(errors)
        return body

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None:
            return cleaned
        raw = cleaned.get("loaded_state") or ""
        if not raw:
            # Posted without the field at all (a script, not our change form): no
            # version to compare, so it saves as before optimistic locking existed.
            return cleaned
        # A garbled state cannot prove the form is current: refuse rather than guess.
        loaded = editing.EditState.from_json(raw) or editing.EditState(version=-1)
        conflict = editing.find_conflict(self.instance.pk, loaded)
        if conflict is None:
            return cleaned
        self.conflict = conflict
        # Re-based on what is stored now: the editor has seen the diff, so saving
        # the form again is a deliberate choice to replace that version.
        data = QueryDict(mutable=True)
        data.update(self.data)
        data[self.add_prefix("loaded_state")] = conflict.current.to_json()
        self.data = data
        raise forms.ValidationError(conflict.message, code="stale")


class FixAdminForm(forms.ModelForm):
    class Meta:
        model = Fix
        fields = "__all__"  # noqa: DJ007 -- the inline's fields choose what is shown
        field_classes = {"body": TextField, "summary": TextField}
        # A fix's summary is one line (a CharField): a textarea would invite newlines.
        widgets = _wide_widgets(forms.TextInput)
        help_texts = {"summary": SUMMARY_HELP, "body": BODY_HELP}

    def clean_body(self) -> str:
        body, errors = editing.prepare_body(self.cleaned_data.get("body", ""))
        if errors:
            raise forms.ValidationError(errors)
        return body


class FaqAdminForm(forms.ModelForm):
    class Meta:
        model = FaqEntry
        fields = "__all__"  # noqa: DJ007 -- the inline's fields choose what is shown
        field_classes = {"answer": TextField}

    def clean_answer(self) -> str:
        answer: str = self.cleaned_data.get("answer", "")
        errors = editing.snippet_errors(answer)
        if errors:
            raise forms.ValidationError(errors)
        return answer


class ThrottledLoginForm(AdminAuthenticationForm):
    """The admin login, refusing a username+client pair after repeated wrong passwords."""

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username", ""))
        request = self.request
        if request is not None and login_throttle.is_blocked(request, username):
            minutes = max(login_throttle.window_seconds() // 60, 1)
            message = ngettext(
                "Too many failed sign-ins for this username from your address. "
                "Wait %(minutes)d minute and try again, or ask an admin to reset the password.",
                "Too many failed sign-ins for this username from your address. "
                "Wait %(minutes)d minutes and try again, or ask an admin to reset the password.",
                minutes,
            )
            raise forms.ValidationError(message % {"minutes": minutes}, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if request is not None:
                login_throttle.record_failure(request, username)
            raise
        if request is not None:
            login_throttle.clear(request, username)
        return cleaned
