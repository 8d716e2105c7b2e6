"""Every interface string in the templates goes through Django's translation tags, the
sentences Python composes for pages go through gettext, the page says which language it is
in, and makemessages collects the strings without complaint: adding a language later is
writing a .po file, not editing templates or code."""

from __future__ import annotations

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
from django.utils import translation

from tests.conftest import ROOT

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
    # The default app-directory walk is from the working directory: the project root.
    warnings = io.StringIO()
    with contextlib.chdir(ROOT):
        call_command(
            "makemessages", locale=["xx"], ignore_patterns=ignore, verbosity=0,
            no_obsolete=True, stderr=warnings,
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
    ):
        assert f'msgid "{msgid}"' in po


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

    messages = tmp_path / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(FAKE_PO)
    subprocess.run(
        ["msgfmt", "--check", "-o", str(messages / "django.mo"), str(messages / "django.po")],
        check=True,
    )
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
