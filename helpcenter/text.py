"""Plain text from outside (forms, files, query strings) made safe to store and search.

PostgreSQL refuses NUL in text columns (a 500 instead of an answer), and the
other C0 control characters have no business in an article or a query either;
tabs and line breaks are kept.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def without_control_chars(value: str) -> str:
    return _CONTROL.sub("", value)


def normalise_text(value: str) -> str:
    """One spelling of a text: LF line endings, no blank lines first, no whitespace at the end.

    Browsers post textareas with CRLF; without this every save of a form would
    look like a change to every text in it (and record phantom revisions).
    """
    return _LEADING_BLANK_LINES.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).rstrip()


# Whole blank lines only: the first line's own indentation means something in
# Markdown (four spaces start a code block).
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


def stored_text(value: str, *, multiline: bool) -> str:
    """How the models store any text field, whatever path it came by.

    Admin forms, the importer, restores and the shell all end up here, so two
    spellings of the same text never count as a change (or a new revision).
    A one-line field is also trimmed at the start, as Django's form fields do.
    """
    value = normalise_text(without_control_chars(value))
    return value if multiline else value.lstrip()
