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
    """One spelling of a text: LF line endings and no trailing whitespace at the end.

    Browsers post textareas with CRLF; without this every save of a form would
    look like a change to every text in it (and record phantom revisions).
    """
    return value.replace("\r\n", "\n").replace("\r", "\n").rstrip()
