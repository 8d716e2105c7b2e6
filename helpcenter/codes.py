"""Error codes named in guide titles: the home page's way in by code.

Read from the titles themselves ("... (error 1020)", "errors 1005, 1006 ..."), so a
new guide about a new code shows up without any code change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from helpcenter.models import Article

# "error 1020", "errors 1005, 1006 or 1106": numbers that follow "error", so a year
# or a count in a title is never taken for a code.
CODES_AFTER_ERROR = re.compile(r"\berrors?\s+((?:\d{3,4}(?:\s*(?:,|\bor\b|\band\b)\s*)?)+)", re.I)
NUMBER = re.compile(r"\d{3,4}")


@dataclass(frozen=True)
class CodeLink:
    code: str
    article: Article


def code_links(articles: Iterable[Article]) -> list[CodeLink]:
    """One link per code, to the first guide whose title names it, in numeric order."""
    first: dict[str, Article] = {}
    for article in articles:
        for run in CODES_AFTER_ERROR.findall(article.title):
            for code in NUMBER.findall(run):
                first.setdefault(code, article)
    return [CodeLink(code, first[code]) for code in sorted(first, key=int)]
