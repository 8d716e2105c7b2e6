"""Interim Markdown renderer (replaced by the full module)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import markdown as md
import nh3

MAX_SOURCE_CHARS = 200_000


class MarkdownTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Rendered:
    html: str
    headings: tuple[Heading, ...]
    missing_ids: tuple[str, ...]
    duplicate_ids: tuple[str, ...] = ()


def sanitize_html(html: str) -> str:
    return nh3.clean(html, attributes={"*": {"id", "class"}, "a": {"href", "title"}})


def render_markdown(source: str) -> Rendered:
    if len(source) > MAX_SOURCE_CHARS:
        raise MarkdownTooLarge(f"limit {MAX_SOURCE_CHARS}")
    html = md.markdown(source, extensions=["attr_list", "tables"])
    html = re.sub(r'(<h([2-4]) id="([a-z0-9-]+)">)(.*?)(</h\2>)',
                  r'\1\4<a class="headerlink" href="#\3">#</a>\5', html)
    heads = tuple(Heading(int(m[1]), m[2], m[3]) for m in re.finditer(r'<h([23]) id="([^"]+)">(.*?)<a', html))
    return Rendered(sanitize_html(html), heads, ())


def render_inline(text: str) -> str:
    return sanitize_html(md.markdown(text))
