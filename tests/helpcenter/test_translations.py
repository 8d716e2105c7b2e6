"""Every interface string in the templates goes through Django's translation tags, the
sentences Python composes for pages go through gettext, the page says which language it is
in, and makemessages collects the strings without complaint: adding a language later is
writing a .po file, not editing templates or code. The same holds for the admin and the
editor: their templates, the labels and messages their Python shows, the models' names,
help texts and choices, and the editor's script."""

from __future__ import annotations

import ast
import contextlib
import html
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation

from tests.conftest import ROOT
from tests.helpcenter.admin_forms import change_url, make_editor
from tests.helpcenter.factories import make_article

TEMPLATES = ROOT / "templates"
# The styleguide: a staff page about CSS class names, with markup samples for the people
# who build pages. The admin's and the editor's templates are held to the same rule.
SKIPPED = ("styleguide/", "helpcenter/styleguide.html")
# Attributes a person reads or hears.
SPOKEN_ATTRIBUTES = re.compile(r'\s(?:placeholder|aria-label|title|alt)="([^"]*)"')
TAG = re.compile(r"<[^>]*>", re.S)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
MARK = "\x00"
# Translated already, a comment, or a list of CSS classes.
SILENT_BLOCKS = {
    "comment": "endcomment",
    "blocktranslate": "endblocktranslate",
    "block main_class": "endblock",
}


def _templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES.rglob("*")
        if path.suffix in (".html", ".txt")
        and not str(path.relative_to(TEMPLATES)).startswith(SKIPPED)
    )


def untranslated(source: str) -> list[str]:
    """Words in a template's own text (not its tags or variables) outside translation tags."""
    # The template's text with every tag and variable replaced by a marker, so a piece of
    # HTML cut by a {{ variable }} still reads as one tag.
    parts: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            words = token.contents.split()
            name = words[0] if words else ""
            opening = next((k for k in (" ".join(words[:2]), name) if k in SILENT_BLOCKS), None)
            if closing is None and opening:
                closing = SILENT_BLOCKS[opening]
            elif name == closing:
                closing = None
            parts.append(MARK)
        elif token.token_type == TokenType.VAR:
            parts.append(MARK)
        elif token.token_type == TokenType.TEXT and closing is None:
            parts.append(token.contents)
    text = HTML_COMMENT.sub(" ", "".join(parts))
    pieces = [value for value in SPOKEN_ATTRIBUTES.findall(text)]
    pieces += html.unescape(TAG.sub(MARK, text)).split(MARK)
    return [" ".join(p.split())[:80] for p in pieces if re.search(r"[^\W\d_]{2,}", p)]


def test_the_checker_finds_text_outside_translation_tags() -> None:
    assert untranslated("<p>Hello</p>") == ["Hello"]
    assert untranslated('<input placeholder="Search">') == ["Search"]
    assert untranslated("<p>{% translate 'Hello' %} · {{ name }}</p>") == []
    assert untranslated("{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}") == []
    assert untranslated("{% comment %}Why{% endcomment %}<!-- note -->") == []


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_shows_untranslated_text(path: Path) -> None:
    assert untranslated(path.read_text()) == []


@pytest.mark.django_db
def test_the_page_says_its_language(client: Any) -> None:
    page = client.get("/privacy/").content.decode()
    assert re.search(r'<html lang="([^"]+)">', page)[1] == translation.get_language()  # type: ignore[index]


def test_makemessages_collects_the_strings_cleanly(tmp_path: Path, settings: Any) -> None:
    if shutil.which("xgettext") is None:
        pytest.fail("makemessages needs GNU gettext (apt-get install gettext)")
    settings.LOCALE_PATHS = [tmp_path]
    ignore = [".venv", "node_modules", "data", "test-artifacts", "bench", "deploy", "docs"]
    # htmx, minified: its text is not ours to translate.
    ignore += ["static/vendor", "staticfiles"]
    # The default app-directory walk is from the working directory: the project root.
    warnings = io.StringIO()
    with contextlib.chdir(ROOT):
        for domain in ("django", "djangojs"):
            call_command(
                "makemessages", locale=["xx"], domain=domain, ignore_patterns=ignore,
                verbosity=0, no_obsolete=True, stderr=warnings,
            )  # fmt: skip
    assert warnings.getvalue() == ""  # xgettext's warnings (a bad format string, say)
    po = (tmp_path / "xx" / "LC_MESSAGES" / "django.po").read_text()
    # From templates, from Python label tables marked with gettext_noop, and from the
    # sentences Python composes for pages (one per module).
    for msgid in (
        "Skip to content",
        "Run checks",
        "Privacy",
        "Blocked for our server",
        "A blank page",
        "%(count)d min ago",  # diagnostics/status/summary.py
        "%(count)d day",  # diagnostics/status/live.py
        "%(day)s: not checked",  # diagnostics/charts.py
        "checked moments ago by our regular check",  # diagnostics/evidence.py
        "%(name)s: first seen %(state)s",  # diagnostics/models.py
        "Everything looks fine from here",  # diagnostics/verdict.py
        "Our server reaches the service.",  # diagnostics/claims.py
        "Pick one of the fixes and answer Yes or No.",  # diagnostics/views.py
        "Server error",  # helpcenter/views.py (the bare 500 page)
        "Fix %(number)s: %(title)s",  # helpcenter/seo.py
        "New and updated troubleshooting guides.",  # helpcenter/feeds.py
        # The admin and the editor: one per template folder and module.
        "Compare selected versions",  # templates/admin/history/
        "Copy preview link",  # templates/admin/helpcenter/
        "votes about service",  # helpcenter/admin.py (a list filter's title)
        "Choose an image file to upload.",  # helpcenter/admin_views.py
        "Choose two versions to compare.",  # helpcenter/history_admin.py (a message)
        "Someone else",  # helpcenter/editing.py (who saved over the editor's form)
        "PNG, JPEG, WebP or GIF",  # helpcenter/images.py (in an upload's refusal)
        "The version could not be restored: %(reason)s",  # helpcenter/history.py
        "Then tell the visitor",  # diagnostics/admin.py (a fieldset)
        "Failed deliveries",  # notices/admin.py (a column)
        "FAQ entries",  # helpcenter/models.py (a verbose_name_plural)
        "The visitor's browser",  # diagnostics/models.py (a choice label)
        "Failed; gave up",  # notices/models.py
        "published at",  # helpcenter/models.py (a field's name, written out)
    ):
        assert f'msgid "{msgid}"' in po
    # Wrapped over several lines in the .po: compared without the line breaks.
    assert "Too many failed sign-ins" in po  # helpcenter/admin_forms.py (a form error)
    js = (tmp_path / "xx" / "LC_MESSAGES" / "djangojs.po").read_text()
    for msgid in ("Preview link copied", "Add a heading", "%(count)s found"):
        assert f'msgid "{msgid}"' in js  # static/admin_editor/editor.js


# --- Python the admin and the editor show ------------------------------------------

# Modules whose strings editors read: every label, title and message in them is a
# gettext call (gettext_lazy where Python evaluates it at import).
EDITOR_MODULES = [
    "helpcenter/admin.py",
    "helpcenter/admin_forms.py",
    "helpcenter/admin_views.py",
    "helpcenter/editing.py",
    "helpcenter/history.py",
    "helpcenter/history_admin.py",
    "helpcenter/images.py",
    "helpcenter/staff_views.py",
    "helpcenter/models.py",
    "diagnostics/admin.py",
    "diagnostics/models.py",
    "notices/admin.py",
    "notices/models.py",
]
# Keyword arguments, class attributes and dict keys whose string a person reads.
LABEL_NAMES = {"description", "verbose_name", "verbose_name_plural", "help_text", "label", "title"}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error", "add_message"}


def _literal(node: ast.AST | None) -> bool:
    """A string written out in the code (or an f-string), rather than a gettext call."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and re.search(r"[^\W\d_]{2,}", node.value) is not None
    return isinstance(node, ast.JoinedStr)


def untranslated_python(source: str) -> list[str]:
    """Strings shown to people in ``source`` that no gettext call wraps, as "line: text"."""
    found: list[ast.expr] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func, "value", None)
            found += [k.value for k in node.keywords if k.arg in LABEL_NAMES]
            if name in MESSAGE_LEVELS and getattr(owner, "id", "") == "messages":
                found += node.args[1:]  # messages.success(request, "...")
            if name == "ValidationError" and node.args:
                message = node.args[0]  # one message, or one per field
                found += message.values if isinstance(message, ast.Dict) else [message]
        elif isinstance(node, ast.Dict):
            found += [v for k, v in zip(node.keys, node.values, strict=True) if _shown_key(k)]
        elif isinstance(node, ast.ClassDef):  # class attributes: admin options, Meta, choices
            choices = any(
                (getattr(base, "attr", "") or getattr(base, "id", "")).endswith("Choices")
                for base in node.bases
            )
            for item in node.body:
                if not isinstance(item, ast.Assign):
                    continue
                names = {getattr(target, "id", "") for target in item.targets}
                value = item.value
                if names & LABEL_NAMES:
                    found.append(value)
                if "fieldsets" in names and isinstance(value, ast.List | ast.Tuple):
                    found += [f.elts[0] for f in value.elts if isinstance(f, ast.Tuple) and f.elts]
                if choices and isinstance(value, ast.Tuple) and value.elts:
                    found.append(value.elts[-1])  # NAME = "value", "Label"
    shown = sorted((n for n in found if _literal(n)), key=lambda n: (n.lineno, n.col_offset))
    return [f"{n.lineno}: {ast.unparse(n)[:80]}" for n in shown]


def _shown_key(key: ast.AST | None) -> bool:
    return isinstance(key, ast.Constant) and key.value in {"title", "error", "unique"}


def test_the_python_checker_finds_unwrapped_strings() -> None:
    source = """
class Thing(models.Model):
    class Kind(models.TextChoices):
        A = "a", "Shown as is"
        B = "b", _("Translated")
    name = models.CharField(help_text="Plain", verbose_name=_("name"))
    class Meta:
        verbose_name_plural = "things"

class ThingAdmin(admin.ModelAdmin):
    fieldsets = [(None, {}), ("Publishing", {}), (_("Later"), {})]
    @admin.display(description="Votes")
    def votes(self, obj): ...
    def view(self, request):
        messages.success(request, f"Saved {obj}.")
        messages.error(request, gettext("Refused."))
        raise forms.ValidationError("Too many")
        raise ValidationError({"name": "Too short", "slug": gettext("Taken")})
        return {"title": "Compare", "error": gettext("No"), "opts": "x"}
"""
    assert [line.split(": ", 1)[1] for line in untranslated_python(source)] == [
        "'Shown as is'",
        "'Plain'",
        "'things'",
        "'Publishing'",
        "'Votes'",
        "f'Saved {obj}.'",
        "'Too many'",
        "'Too short'",
        "'Compare'",
    ]


@pytest.mark.parametrize("module", EDITOR_MODULES)
def test_no_admin_or_editor_string_escapes_gettext(module: str) -> None:
    assert untranslated_python((ROOT / module).read_text()) == []


def test_every_name_the_admin_shows_is_translatable() -> None:
    """Models, fields and inlines in our admin: a name Django derives from the code
    ("published_at" as "published at") is never translated, so each is written out."""
    from django.contrib import admin
    from django.utils.functional import Promise

    models: set[Any] = set()
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in ("helpcenter", "diagnostics", "notices"):
            models |= {model, *(inline.model for inline in model_admin.inlines)}
    assert len(models) > 10  # the walk found our admin
    bare = []
    for model in models:
        opts = model._meta
        names = {"Meta.verbose_name": opts.verbose_name}
        names["Meta.verbose_name_plural"] = opts.verbose_name_plural
        for field in [*opts.fields, *opts.many_to_many]:
            if not field.auto_created:
                names[field.name] = field.verbose_name
        bare += [f"{opts.label}.{n}" for n, v in names.items() if not isinstance(v, Promise)]
    assert sorted(bare) == []


# --- The editor's script ----------------------------------------------------------

EDITOR_JS = ROOT / "static" / "admin_editor" / "editor.js"
# A string literal written where the page shows it: text, labels, help, errors, titles.
SHOWN_JS = re.compile(
    r'(?:textContent\s*=|\b(?:label|help):|\.error\(|\bask\(|"aria-label",)\s*"([^"]*)"'
)


def test_the_editor_script_shows_no_bare_text() -> None:
    assert SHOWN_JS.findall('out.textContent = "Saved"; ask("Add", [{ label: "Name" }])') == [
        "Saved",
        "Add",
        "Name",
    ]
    shown = [text for text in SHOWN_JS.findall(EDITOR_JS.read_text()) if re.search("[a-z]", text)]
    assert shown == []


@pytest.mark.django_db
def test_the_editor_gets_its_text_from_the_admin_catalogue(
    client: Any, tmp_path: Path, settings: Any
) -> None:
    """The change form loads the admin's catalogue before the editor, and it holds ours."""
    if shutil.which("msgfmt") is None:
        pytest.fail("compiling a catalogue needs GNU gettext (apt-get install gettext)")
    client.force_login(make_editor())
    page = client.get(change_url(make_article())).content.decode()
    catalogue_url = reverse("admin:jsi18n")
    # Loaded without defer, so it has run when the deferred editor starts.
    editor = static("admin_editor/editor.js")
    assert page.index(f'<script src="{catalogue_url}" >') < page.index(f'<script src="{editor}"')
    compile_german(tmp_path, "djangojs", FAKE_JS_PO)
    settings.LOCALE_PATHS = [tmp_path]
    with translation.override("de"):
        script = client.get(catalogue_url).content.decode()
    assert "Vorschaulink kopiert" in script


def compile_german(root: Path, domain: str, po: str) -> None:
    """A made-up German catalogue for ``domain`` under ``root``, compiled as Django reads it."""
    messages = root / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True, exist_ok=True)
    (messages / f"{domain}.po").write_text(po)
    source, compiled = messages / f"{domain}.po", messages / f"{domain}.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(source)], check=True)


FAKE_JS_PO = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

msgid "Preview link copied"
msgstr "Vorschaulink kopiert"
"""


# A few of the sentences Python composes, in a made-up catalogue: proof that they are
# translated when shown, in the active language, and with their numbers in place.
FAKE_PO = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

msgid "%(count)d min ago"
msgid_plural "%(count)d min ago"
msgstr[0] "vor %(count)d Minute"
msgstr[1] "vor %(count)d Minuten"

msgid "%(day)s: not checked"
msgstr "%(day)s: nicht geprüft"

msgid "%(name)s: first seen %(state)s"
msgstr "%(name)s: zuerst gesehen, %(state)s"

msgctxt "state change"
msgid "down"
msgstr "ausgefallen"
"""


def test_python_sentences_follow_the_active_language(tmp_path: Path, settings: Any) -> None:
    if shutil.which("msgfmt") is None:
        pytest.fail("compiling a catalogue needs GNU gettext (apt-get install gettext)")
    from datetime import timedelta

    from django.utils import timezone

    from diagnostics import charts
    from diagnostics.models import StateChange, Target
    from diagnostics.status.summary import age_words

    compile_german(tmp_path, "django", FAKE_PO)
    # Setting LOCALE_PATHS resets Django's cached catalogues (a setting_changed receiver).
    settings.LOCALE_PATHS = [tmp_path]
    moment = timezone.now() - timedelta(minutes=3)
    change = StateChange(target=Target(name="Chat"), from_state="unchecked", to_state="down")
    day = type("Day", (), {"day": "2026-01-02", "ratio": None, "refused": 0, "unmeasured": 0})()
    with translation.override("de"):
        assert age_words(moment) == "vor 3 Minuten"
        assert charts._day_title(day) == "2026-01-02: nicht geprüft"
        assert change.sentence == "Chat: zuerst gesehen, ausgefallen"
    assert age_words(moment) == "3 min ago"
    assert change.sentence == "Chat: first seen down"
