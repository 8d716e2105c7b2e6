"""Markdown -> sanitised HTML: the only place in the project that turns user text into HTML.

Rendering is python-markdown with a fixed set of extensions; every result then passes through
one nh3 allow-list (``sanitize_html``), so raw HTML written inside an article, attribute lists
and link targets are all judged by the same rules. Plain Python: no Django import, so models,
management commands and benchmarks can all call it.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import render_inner_html, strip_tags
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from pygments.token import STANDARD_TYPES
from pymdownx.highlight import Highlight, HighlightExtension

__all__ = [
    "IMAGE_PATH_PREFIXES",
    "MAX_SOURCE_CHARS",
    "MAX_UNMATCHED_BRACKETS",
    "Heading",
    "HeadingIds",
    "MarkdownTooComplex",
    "MarkdownTooLarge",
    "Rendered",
    "add_heading_ids",
    "heading_id_for",
    "render_inline",
    "render_markdown",
    "sanitize_html",
]

# A long troubleshooting guide is ~30 KB; this leaves room while bounding the time a single
# save can spend in python-markdown, whose inline parser is super-linear on some inputs.
MAX_SOURCE_CHARS = 200_000
# python-markdown's link pattern backtracks over every unclosed "[" of a paragraph: 2,000 of
# them take seconds, 8,000 take minutes. No real paragraph has a hundred.
MAX_UNMATCHED_BRACKETS = 100

# Explicit heading ids become URL fragments and DOM ids. Lower-case slugs only, so an article
# cannot define ids such as "csrf_token" or "__proto__" that page scripts might look up.
HEADING_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,80}")
# What pymdownx.tabbed (alternate_style) generates for its radio inputs and their labels.
# A page shows several rendered documents (an article and its fixes), each numbering its tab
# sets from 1, so a document's prefix keeps their ids apart, with JavaScript off as well.
_TAB_PREFIX_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,60}")
_TAB_PREFIX_JUNK_RE = re.compile(r"[^a-z0-9-]+")
_TAB_ID_RE = re.compile(r"__tabbed_(?:[a-z0-9][a-z0-9-]{0,60}_)?\d{1,6}_\d{1,6}")
_TAB_NAME_RE = re.compile(r"__tabbed_(?:[a-z0-9][a-z0-9-]{0,60}_)?\d{1,6}")
_TAB_ATTR_RE = re.compile(r'(\s(?:id|for|name)=")__tabbed_(\d)')
_SMALL_INT_RE = re.compile(r"\d{1,5}")

PERMALINK_LABEL = "Link to this section"
_TOC_LEVELS = frozenset({"h2", "h3"})
_REPORTED_LEVELS = frozenset({"h2", "h3", "h4"})
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class MarkdownTooLarge(ValueError):
    """The source is longer (or nested deeper) than we are willing to render."""


class MarkdownTooComplex(MarkdownTooLarge):
    """A paragraph has so many unclosed "[" that rendering it would take seconds."""


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
    # Texts of headings whose {#id} repeats an earlier one; the first keeps the id.
    duplicate_ids: tuple[str, ...] = ()
    # Texts of headings whose {#id} is not a lower-case slug; the id is dropped.
    invalid_ids: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        """Human-readable warnings for an importer or editor, one per offending heading."""
        return (
            *(f"Heading {t!r} has no explicit {{#id}}." for t in self.missing_ids),
            *(f"Heading {t!r} repeats an id used earlier." for t in self.duplicate_ids),
            *(f"Heading {t!r} has an id that is not a lower-case slug." for t in self.invalid_ids),
        )


# --- Rendering ---------------------------------------------------------------------------


@dataclass
class _HeadingReport:
    headings: list[Heading] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class _ExplicitHeadingIds(Treeprocessor):
    """Keep only ids the author wrote (`## Title {#slug}`), add permalinks, report the rest.

    The toc extension derives ids from heading text, so rewording a heading would break every
    link to it; it also gives every heading an id. This replaces it: no explicit id, no id.
    """

    def __init__(self, md: markdown.Markdown, report: _HeadingReport) -> None:
        super().__init__(md)
        self.report = report

    def run(self, root: Element) -> None:
        for el in root.iter():
            if el.tag not in _HEADING_TAGS:
                continue
            text = html.unescape(strip_tags(render_inner_html(el, self.md)))
            heading_id = el.attrib.pop("id", None)
            if heading_id is None:
                if el.tag in _REPORTED_LEVELS:
                    self.report.missing.append(text)
                continue
            if not HEADING_ID_RE.fullmatch(heading_id):
                self.report.invalid.append(text)
                continue
            if heading_id in self.report.ids:
                self.report.duplicate.append(text)
                continue
            self.report.ids.add(heading_id)
            el.set("id", heading_id)
            anchor = Element(
                "a",
                {"class": "headerlink", "href": f"#{heading_id}", "aria-label": PERMALINK_LABEL},
            )
            anchor.text = "#"
            el.append(anchor)
            if el.tag in _TOC_LEVELS:
                self.report.headings.append(Heading(int(el.tag[1]), heading_id, text))


class _ExplicitHeadingIdsExtension(Extension):
    def __init__(self, report: _HeadingReport) -> None:
        super().__init__()
        self.report = report
        self.processor: _ExplicitHeadingIds | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After attr_list (8), which moves `{#id}` onto the element; before unescape (0).
        self.processor = _ExplicitHeadingIds(md, self.report)
        md.treeprocessors.register(self.processor, "explicit_ids", 6)

    def start(self, report: _HeadingReport) -> None:
        """Collect the next document's headings into a fresh report."""
        self.report = report
        if self.processor is not None:
            self.processor.report = report


# Highlighted code blocks by everything that shapes their HTML. Pygments' output is a pure
# function of its input, and it was a third of an article's render time (a formatter builds
# its whole stylesheet per block); an article saved again re-renders the same blocks.
_HIGHLIGHT_CACHE: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_HIGHLIGHT_CACHE_SIZE = 512
_HIGHLIGHT_LOCK = threading.Lock()


class _CachingHighlight(Highlight):
    def highlight(self, src: str, language: str, *args: Any, **kwargs: Any) -> Any:
        # Inline code returns an Element, and a title in "html" mode goes through the
        # document's html stash: both depend on the document, so neither is cached.
        if kwargs.get("inline") or (kwargs.get("title") and self.title_mode == "html"):
            return super().highlight(src, language, *args, **kwargs)
        key = (
            src,
            language,
            args,
            tuple(sorted((k, repr(v)) for k, v in kwargs.items())),
            repr(sorted(vars(self).items(), key=lambda item: item[0])),
        )
        with _HIGHLIGHT_LOCK:
            cached = _HIGHLIGHT_CACHE.get(key)
            if cached is not None:
                _HIGHLIGHT_CACHE.move_to_end(key)
                return cached
        result = super().highlight(src, language, *args, **kwargs)
        if isinstance(result, str):
            with _HIGHLIGHT_LOCK:
                _HIGHLIGHT_CACHE[key] = result
                while len(_HIGHLIGHT_CACHE) > _HIGHLIGHT_CACHE_SIZE:
                    _HIGHLIGHT_CACHE.popitem(last=False)
        return result


class _CachingHighlightExtension(HighlightExtension):
    def get_pymdownx_highlighter(self) -> type[Highlight]:
        return _CachingHighlight


# python-markdown's own inline patterns, and what each needs to find in a text before it
# can match: backticks, a backslash, "[" (links, images, references), "<" (autolinks, raw
# HTML), "&" (entities), "*" or "_" (emphasis), two spaces before a line break.
_STANDARD_INLINE_PATTERNS = frozenset(
    {
        "backtick", "escape", "reference", "link", "image_link", "image_reference",
        "short_reference", "short_image_ref", "autolink", "automail", "linebreak", "html",
        "entity", "em_strong",
    }
)  # fmt: skip
_INLINE_TRIGGER_RE = re.compile(r"[`\\\[<&*_]|  \n")


class _PlainTextFastInline(InlineProcessor):
    """python-markdown's inline pass, skipping texts that no inline pattern can match.

    For every text node the stock pass tries each of its 14 patterns in turn, even on
    a sentence with no markup at all: ~40 % of rendering a long article. A text with
    none of the characters any pattern starts from comes out of that loop unchanged,
    so it is returned at once. Only when the patterns are exactly python-markdown's
    own: an extension adding one with other triggers turns this off.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        names = {item.name for item in md.inlinePatterns._priority}
        self.skip_plain = names == _STANDARD_INLINE_PATTERNS

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if self.skip_plain and patternIndex == 0 and _INLINE_TRIGGER_RE.search(data) is None:
            return data
        handle = super()._InlineProcessor__handleInline
        return str(handle(data, patternIndex))


class _PlainTextFastInlineExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Same name and priority as the stock inline pass: this replaces it.
        md.treeprocessors.register(_PlainTextFastInline(md), "inline", 20)


_ARTICLE_EXTENSIONS: list[str | Extension] = [
    "attr_list",
    "tables",
    "admonition",
    "sane_lists",
    "pymdownx.superfences",
    "pymdownx.details",
    "pymdownx.tabbed",
]
_ARTICLE_CONFIG: dict[str, dict[str, Any]] = {
    # An align attribute rather than style="text-align: …", so no style attribute is allowed.
    "tables": {"use_align_attribute": True},
    # The CSS-only tab markup (radio inputs + labels) that our stylesheet targets.
    "pymdownx.tabbed": {"alternate_style": True},
}


def _check_size(source: str) -> None:
    if len(source) > MAX_SOURCE_CHARS:
        raise MarkdownTooLarge(
            f"Markdown source is {len(source):,} characters; "
            f"the limit is {MAX_SOURCE_CHARS:,} characters."
        )
    if source.count("[") - source.count("]") <= MAX_UNMATCHED_BRACKETS:
        return  # the whole text cannot hold a paragraph over the limit: skip the split
    for number, paragraph in enumerate(_PARAGRAPH_BREAK_RE.split(source), start=1):
        unmatched = paragraph.count("[") - paragraph.count("]")
        if unmatched > MAX_UNMATCHED_BRACKETS:
            raise MarkdownTooComplex(
                f"Paragraph {number} has {unmatched:,} more '[' than ']'; "
                f"at most {MAX_UNMATCHED_BRACKETS} are accepted (write \\[ for a literal '[')."
            )


_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n")


def _convert(md: markdown.Markdown, source: str) -> str:
    try:
        return md.convert(source)
    except RecursionError:
        # Deeply nested lists or quotes exhaust python-markdown's recursive block parser.
        raise MarkdownTooLarge(
            f"Markdown source is nested too deeply to render "
            f"(the size limit is {MAX_SOURCE_CHARS:,} characters)."
        ) from None


def render_markdown(source: str, tab_prefix: str = "") -> Rendered:
    """Render an article body to sanitised HTML plus its heading outline and id problems.

    tab_prefix names the document's tab sets (e.g. "fix-clear-cookies") so they stay unique
    on a page that shows several documents.
    """
    _check_size(source)
    tab_prefix = _tab_prefix(tab_prefix)
    report = _HeadingReport()
    md, headings = _article_renderer()
    headings.start(report)
    try:
        body = _convert(md, source)
        if tab_prefix:
            body = _TAB_ATTR_RE.sub(rf"\1__tabbed_{tab_prefix}_\2", body)
    except BaseException:
        # Whatever state the failed document left behind is not carried into the next one.
        _renderers.article = None
        raise
    return Rendered(
        html=_sanitize(body, heading_ids=frozenset(report.ids)),
        headings=tuple(report.headings),
        missing_ids=tuple(report.missing),
        duplicate_ids=tuple(report.duplicate),
        invalid_ids=tuple(report.invalid),
    )


# --- Heading ids for headings written without one ------------------------------------

_ATX_HEADING_RE = re.compile(
    r"^(?P<lead>[ \t]*(?P<hashes>#{2,4})[ \t]+)(?P<text>.*?)(?P<close>[ \t]+#+)?[ \t]*$"
)
_FENCE_RE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
# `{#id}` or `{: #id .class}` at the end of a heading: attr_list's form of an explicit id.
_EXPLICIT_ID_RE = re.compile(r"\{:?[^{}\n]*#[^{}\n]*\}$")
_ATTR_LIST_RE = re.compile(r"\{:?(?P<inner>[^{}\n#]*)\}$")
_ANY_ID_RE = re.compile(r"\{:?[^{}\n]*?#(?P<id>[a-z0-9][a-z0-9-]*)[^{}\n]*\}")
_NOT_ID_CHARS_RE = re.compile(r"[^a-z0-9]+")
# Anchors the article page gives its fixes and FAQ entries: a heading id must not take one.
_PAGE_ID_PREFIXES = ("fix-", "faq-")
_HEADERLINK_RE = re.compile(r'<a [^>]*class="headerlink"[^>]*>#</a>')
_HEADING_ID_ATTR_RE = re.compile(r'(<h[1-6]) id="[^"]*"')


def heading_id_for(text: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A lower-case slug for a heading's text that no id in ``taken`` uses.

    static/admin_editor/editor.js makes the same ids for the toolbar's headings.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = _NOT_ID_CHARS_RE.sub("-", ascii_text.lower()).strip("-")[:60].strip("-")
    if not base:
        base = "section"
    if base.startswith(_PAGE_ID_PREFIXES):
        base = f"section-{base}"
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base}-{number}"
        number += 1
    return candidate


@dataclass(frozen=True)
class HeadingIds:
    source: str
    # (heading text, the id it was given), in document order.
    added: tuple[tuple[str, str], ...] = ()


def add_heading_ids(source: str, reserved: frozenset[str] = frozenset()) -> HeadingIds:
    """``source`` with a `{#id}` written after every h2-h4 heading that has none.

    Ids are public URL fragments: once written into the text they stay when the
    heading is reworded. Only lines that render as the same headings get one: a
    line that looks like a heading inside code is left as it is (the render of
    the result is compared with the original's, ids aside).
    """
    before = render_markdown(source)
    if not before.missing_ids:
        return HeadingIds(source)
    lines = source.split("\n")
    taken = set(reserved) | {m["id"] for m in _ANY_ID_RE.finditer(source)}
    edits: list[tuple[int, str, str, str]] = []  # (line, new line, text, id)
    fence = ""
    for number, line in enumerate(lines):
        opening = _FENCE_RE.match(line)
        if fence:
            if opening and opening["fence"][0] == fence[0] and len(opening["fence"]) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening["fence"]
            continue
        match = _ATX_HEADING_RE.match(line)
        if match is None or not match["text"] or _EXPLICIT_ID_RE.search(match["text"]):
            continue
        attrs = _ATTR_LIST_RE.search(match["text"])
        words = match["text"][: attrs.start()] if attrs is not None else match["text"]
        text = html.unescape(strip_tags(render_inline(words))).strip()
        new_id = heading_id_for(text, taken)
        if attrs is not None:
            inner = attrs["inner"].strip()
            written = words + "{#" + new_id + (" " + inner if inner else "") + "}"
        else:
            written = f"{match['text']} {{#{new_id}}}"
        taken.add(new_id)
        edits.append((number, match["lead"] + written, text, new_id))
    shape = _shape(before.html)
    kept = _edits_keeping_shape(lines, edits, shape)
    for number, new_line, _text, _id in kept:
        lines[number] = new_line
    return HeadingIds("\n".join(lines), tuple((text, new_id) for _n, _l, text, new_id in kept))


def _shape(rendered_html: str) -> str:
    return _HEADING_ID_ATTR_RE.sub(r"\1", _HEADERLINK_RE.sub("", rendered_html))


def _edits_keeping_shape(
    lines: list[str], edits: list[tuple[int, str, str, str]], shape: str
) -> list[tuple[int, str, str, str]]:
    def applied(chosen: list[tuple[int, str, str, str]]) -> str:
        changed = list(lines)
        for number, new_line, _text, _id in chosen:
            changed[number] = new_line
        return "\n".join(changed)

    if not edits or _shape(render_markdown(applied(edits)).html) == shape:
        return edits
    # Some line was not a heading after all (inside an indented code block): keep
    # only the edits that change nothing but ids.
    return [edit for edit in edits if _shape(render_markdown(applied([edit])).html) == shape]


def _tab_prefix(name: str) -> str:
    """Reduce a name (a slug may hold capitals and underscores) to what a tab id allows."""
    cleaned = _TAB_PREFIX_JUNK_RE.sub("-", name.lower()).strip("-")[:60]
    return cleaned if _TAB_PREFIX_RE.fullmatch(cleaned) else ""


_renderers = threading.local()


def _article_renderer() -> tuple[markdown.Markdown, _ExplicitHeadingIdsExtension]:
    """This thread's Markdown instance, reset for a new document.

    Building one (extensions, their regexes) cost several milliseconds per render. One per
    thread, never shared: an instance carries per-document state (the html stash, the tab
    counter), which reset() clears between documents.
    """
    cached = getattr(_renderers, "article", None)
    if cached is None:
        headings = _ExplicitHeadingIdsExtension(_HeadingReport())
        md = markdown.Markdown(
            extensions=[
                *_ARTICLE_EXTENSIONS,
                # CSS classes from Pygments; noclasses=False keeps inline styles out.
                _CachingHighlightExtension(use_pygments=True, noclasses=False, guess_lang=False),
                headings,
                _PlainTextFastInlineExtension(),
            ],
            extension_configs=_ARTICLE_CONFIG,
            output_format="html",
        )
        cached = _renderers.article = (md, headings)
    cached[0].reset()
    return cached


_SINGLE_PARAGRAPH_RE = re.compile(r"<p>(.*)</p>", re.DOTALL)


def render_inline(text: str) -> str:
    """Render a short snippet (an FAQ answer, a fix summary) to sanitised HTML.

    A snippet that is a single paragraph comes back without the <p> wrapper, so it can sit
    inside a <p>, <li> or <dd> of the page; longer snippets keep their block markup.
    """
    _check_size(text)
    md = markdown.Markdown(extensions=["sane_lists"], output_format="html")
    out = _sanitize(_convert(md, text), heading_ids=frozenset()).strip()
    match = _SINGLE_PARAGRAPH_RE.fullmatch(out)
    if match and "<p>" not in match[1] and "<p " not in match[1]:
        return match[1].strip()
    return out


# --- Sanitising --------------------------------------------------------------------------

_ADMONITION_TYPES = frozenset(
    {
        "note", "abstract", "summary", "tldr", "info", "todo", "tip", "hint", "important",
        "success", "check", "done", "question", "help", "faq", "warning", "caution",
        "attention", "failure", "fail", "missing", "danger", "error", "bug", "example",
        "quote", "cite", "seealso",
    }
)  # fmt: skip
_PYGMENTS_CLASSES = frozenset(c for c in STANDARD_TYPES.values() if c)

_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote",
        "ul", "ol", "li", "a", "img", "code", "pre", "span",
        "em", "strong", "b", "i", "del", "ins", "s", "kbd", "sup", "sub", "mark",
        "table", "thead", "tbody", "tr", "th", "td",
        "div", "details", "summary", "input", "label",
    }
)  # fmt: skip

# Removed together with everything inside them: their content is code or markup that makes
# no sense as text (a <style> body, an SVG drawing) and would litter the page.
_DROP_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object",
        "embed", "applet", "svg", "math", "textarea", "select", "title", "xmp", "noembed",
        "noframes", "plaintext",
    }
)  # fmt: skip

_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "aria-label"},
    "img": {"src", "alt", "title", "width", "height"},
    **{h: {"id"} for h in _HEADING_TAGS},
    "ol": {"start"},
    "details": {"open"},
    "input": {"id", "name", "checked"},
    "label": {"for"},
}
# Attributes allowed only with one of a few values (and therefore absent from _ATTRIBUTES).
_ATTRIBUTE_VALUES: dict[str, dict[str, set[str]]] = {
    "th": {"align": {"left", "right", "center"}},
    "td": {"align": {"left", "right", "center"}},
}
# Forced values: whatever an author writes, an <input> can only ever be a radio button.
_FORCED_VALUES: dict[str, dict[str, str]] = {"input": {"type": "radio"}}

_CLASSES: dict[str, set[str]] = {
    "a": {"headerlink"},
    "p": {"admonition-title"},
    "div": {
        "admonition",
        *_ADMONITION_TYPES,
        "highlight",
        "linenodiv",
        "tabbed-set",
        "tabbed-alternate",
        "tabbed-labels",
        "tabbed-content",
        "tabbed-block",
    },
    "details": set(_ADMONITION_TYPES),
    "span": {*_PYGMENTS_CLASSES, "hll", "filename", "linenos", "normal", "special"},
    "table": {"highlighttable"},
    "td": {"linenos", "code"},
}

_URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Pictures come from the site itself only: screenshots editors uploaded (under /media/) and
# files shipped with the code (under /static/). An image from another server would tell it
# who reads which page, and could change under us after review.
IMAGE_PATH_PREFIXES = ("/media/", "/static/")
# Browsers ignore these inside URLs ("jav\tascript:"), so they must not hide a scheme from us.
_URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f]+")


@dataclass
class _IdPolicy:
    # None: any slug-shaped id is fine (sanitize_html on arbitrary HTML).
    allowed: frozenset[str] | None
    seen: set[str] = field(default_factory=set)


_id_policy: ContextVar[_IdPolicy | None] = ContextVar("helpcenter_markdown_id_policy", default=None)


def _url_scheme(value: str) -> str | None:
    """The lower-cased scheme of a URL ("" when relative), or None if it cannot be parsed."""
    try:
        parts = urlsplit(_URL_NOISE_RE.sub("", value))
    except ValueError:
        return None
    # "java\ufffdscript:x" has no valid scheme, so it parses as a relative path; a colon in
    # its first segment means someone tried to write a scheme, and we do not guess which.
    if not parts.scheme and ":" in parts.path.split("/", 1)[0]:
        return None
    return parts.scheme.lower()


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """Second line of defence after the allow-lists: check the values of what they let in."""
    if attr == "id":
        if tag == "input":
            return value if _TAB_ID_RE.fullmatch(value) else None
        return _heading_id(value)
    if attr == "for":
        return value if _TAB_ID_RE.fullmatch(value) else None
    if attr == "name":
        return value if _TAB_NAME_RE.fullmatch(value) else None
    if attr in {"width", "height", "start"}:
        return value if _SMALL_INT_RE.fullmatch(value.strip()) else None
    if attr == "class":
        # nh3 would leave class="" behind once every class is filtered out; drop it instead.
        kept = [name for name in value.split() if name in _CLASSES.get(tag, ())]
        return " ".join(kept) or None
    if attr == "href":
        scheme = _url_scheme(value)
        return value if scheme == "" or scheme in _URL_SCHEMES else None
    if attr == "src":
        return value if _own_image(value) else None
    return value


def _own_image(value: str) -> bool:
    """Whether ``value`` is a root-relative path to a file of this site's media or static."""
    if _url_scheme(value) != "" or _URL_NOISE_RE.search(value) or "\\" in value:
        return False
    parts = urlsplit(value)
    if parts.netloc or not parts.path.startswith(IMAGE_PATH_PREFIXES):
        return False
    return ".." not in parts.path.split("/")


def _heading_id(value: str) -> str | None:
    if not HEADING_ID_RE.fullmatch(value):
        return None
    policy = _id_policy.get()
    if policy is None:
        return value
    if policy.allowed is not None and value not in policy.allowed:
        return None
    # Raw HTML in an article could repeat an id; the first element keeps it.
    if value in policy.seen:
        return None
    policy.seen.add(value)
    return value


_CLEANER = nh3.Cleaner(
    tags=set(_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    tag_attribute_values=_ATTRIBUTE_VALUES,
    set_tag_attribute_values=_FORCED_VALUES,
    allowed_classes=_CLASSES,
    url_schemes=set(_URL_SCHEMES),
    strip_comments=True,
    # No rel is added: no target attribute survives, so a linked page cannot reach
    # window.opener, and what Referer to send is the site's Referrer-Policy header's job.
    link_rel=None,
)


def _sanitize(fragment: str, heading_ids: frozenset[str] | None) -> str:
    token = _id_policy.set(_IdPolicy(allowed=heading_ids))
    try:
        cleaned: str = _CLEANER.clean(fragment)
        return cleaned
    finally:
        _id_policy.reset(token)


def sanitize_html(html: str) -> str:
    """Reduce an HTML fragment to the help center's allow-list; safe to mark safe afterwards."""
    return _sanitize(html, heading_ids=None)
