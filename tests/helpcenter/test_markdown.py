from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpcenter.markdown import (
    MAX_SOURCE_CHARS,
    PERMALINK_LABEL,
    Heading,
    HeadingIds,
    MarkdownTooLarge,
    add_heading_ids,
    heading_id_for,
    render_inline,
    render_markdown,
    sanitize_html,
)
from tests.helpcenter.xss_vectors import XSS_VECTORS

ROOT = Path(__file__).resolve().parents[2]


class _Collector(HTMLParser):
    """Every start tag with its (entity-decoded) attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser.elements


def find(html: str, tag: str) -> list[dict[str, str]]:
    return [attrs for name, attrs in elements(html) if name == tag]


FORBIDDEN_TAGS = {
    "script", "style", "iframe", "frame", "object", "embed", "svg", "math", "form", "base",
    "meta", "link", "button", "textarea", "select", "template", "image", "video", "audio",
    "source", "body", "marquee",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "data", "poster"}
BAD_SCHEME_RE = re.compile(r"^(javascript|vbscript|data|livescript):")


def assert_inert(html: str) -> None:
    assert "<script" not in html.lower()
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN_TAGS, html
        if tag == "input":
            assert attrs.get("type") == "radio", html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name not in {"style", "srcdoc", "target", "formaction"}, html
            assert not name.startswith("hx-"), html
            if name in URL_ATTRIBUTES:
                # Browsers drop ASCII whitespace and controls inside a scheme.
                compact = re.sub(r"[\x00-\x20]+", "", value).lower()
                assert not BAD_SCHEME_RE.match(compact), html


# --- Heading ids -------------------------------------------------------------------------


def test_it_gives_explicit_ids_and_permalinks() -> None:
    rendered = render_markdown("## Clear the site's cookies {#clear-cookies}\n")

    assert find(rendered.html, "h2") == [{"id": "clear-cookies"}]
    [link] = find(rendered.html, "a")
    assert link == {
        "class": "headerlink",
        "href": "#clear-cookies",
        "aria-label": PERMALINK_LABEL,
    }
    assert rendered.missing_ids == ()
    assert rendered.headings == (Heading(2, "clear-cookies", "Clear the site's cookies"),)


def test_it_accepts_the_attr_list_colon_form() -> None:
    rendered = render_markdown("## Flush DNS {: #flush-dns }\n")

    assert find(rendered.html, "h2") == [{"id": "flush-dns"}]


def test_it_keeps_the_id_when_the_heading_text_changes() -> None:
    before = render_markdown("## Clear cookies {#clear-cookies}\n")
    after = render_markdown("## Delete the cookies for chatgpt.com {#clear-cookies}\n")

    assert before.headings[0].id == after.headings[0].id == "clear-cookies"
    assert after.headings[0].text == "Delete the cookies for chatgpt.com"


def test_it_leaves_headings_without_an_id_bare_and_reports_them() -> None:
    rendered = render_markdown("# Title\n\n## Why it happens\n\n#### Detail\n\n##### Deep\n")

    assert all(attrs == {} for tag, attrs in elements(rendered.html))
    assert "headerlink" not in rendered.html
    assert rendered.missing_ids == ("Why it happens", "Detail")
    assert rendered.headings == ()


def test_it_does_not_derive_ids_from_text() -> None:
    rendered = render_markdown("## Clear cookies\n\n## Clear cookies\n")

    assert 'id="' not in rendered.html
    assert rendered.missing_ids == ("Clear cookies", "Clear cookies")


def test_it_keeps_the_first_of_duplicate_ids_and_reports_the_rest() -> None:
    rendered = render_markdown("## First {#step}\n\n### Second {#step}\n\n## Third {#step}\n")

    assert [attrs.get("id") for attrs in find(rendered.html, "h2") + find(rendered.html, "h3")] == [
        "step",
        None,
        None,
    ]
    assert rendered.html.count('href="#step"') == 1
    assert rendered.headings == (Heading(2, "step", "First"),)
    assert rendered.duplicate_ids == ("Second", "Third")


def test_it_drops_ids_that_are_not_lower_case_slugs() -> None:
    source = "## A {#Clear-Cookies}\n\n## B {#-x}\n\n## C {#location}\n\n## D {#x_y}\n"
    rendered = render_markdown(source)

    assert [a.get("id") for a in find(rendered.html, "h2")] == [None, None, "location", None]
    assert rendered.invalid_ids == ("A", "B", "D")
    assert len(rendered.problems) == 3


def test_it_lists_h2_and_h3_in_document_order() -> None:
    source = (
        "# Page {#page}\n\n## One {#one}\n\n### One a {#one-a}\n\n"
        "#### Too deep {#too-deep}\n\n## Two `code` *em* {#two}\n"
    )
    rendered = render_markdown(source)

    assert rendered.headings == (
        Heading(2, "one", "One"),
        Heading(3, "one-a", "One a"),
        Heading(2, "two", "Two code em"),
    )
    # Deeper headings still get their id and permalink, just not a place in the outline.
    assert find(rendered.html, "h4") == [{"id": "too-deep"}]


def test_it_reports_heading_text_without_markup_or_entities() -> None:
    rendered = render_markdown("## Press <kbd>Ctrl</kbd> &amp; **F5**\n")

    assert rendered.missing_ids == ("Press Ctrl & F5",)


def test_it_finds_headings_inside_admonitions_and_tabs() -> None:
    source = '=== "Chrome"\n\n    ### In Chrome {#in-chrome}\n\n!!! note\n    ### Aside\n'
    rendered = render_markdown(source)

    assert rendered.headings == (Heading(3, "in-chrome", "In Chrome"),)
    assert rendered.missing_ids == ("Aside",)


def test_it_does_not_let_raw_html_claim_or_repeat_heading_ids() -> None:
    source = '<h2 id="sneaky">Raw</h2>\n\n## Real {#real}\n\n<h2 id="real">Copy</h2>\n'
    html = render_markdown(source).html

    assert 'id="sneaky"' not in html
    assert html.count('id="real"') == 1


# --- Extensions survive sanitising -------------------------------------------------------


def test_it_renders_tables_with_alignment_but_no_style() -> None:
    html = render_markdown("| Browser | Fix |\n|:--|--:|\n| Chrome | `Ctrl+Shift+R` |\n").html

    assert find(html, "th") == [{"align": "left"}, {"align": "right"}]
    assert find(html, "td") == [{"align": "left"}, {"align": "right"}]
    assert "<code>Ctrl+Shift+R</code>" in html
    assert "style" not in html


def test_it_highlights_fenced_code_with_classes() -> None:
    html = render_markdown("```python\ndef flush():\n    return 1\n```\n").html

    assert '<div class="highlight"><pre>' in html
    assert '<span class="k">def</span>' in html
    assert '<span class="nf">flush</span>' in html
    assert "style" not in html


def test_it_keeps_admonitions_with_their_classes() -> None:
    html = render_markdown('!!! warning "Before you start"\n    Sign out first.\n').html

    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">Before you start</p>' in html


def test_it_keeps_collapsible_details() -> None:
    html = render_markdown('???+ tip "Still blocked?"\n    Try another network.\n').html

    assert find(html, "details") == [{"class": "tip", "open": ""}]
    assert "<summary>Still blocked?</summary>" in html


def test_it_keeps_browser_tabs_working() -> None:
    html = render_markdown(
        '=== "Chrome"\n\n    Open settings.\n\n=== "Firefox"\n\n    Open about:preferences.\n'
    ).html

    assert '<div class="tabbed-set tabbed-alternate">' in html
    assert find(html, "input") == [
        {"checked": "", "id": "__tabbed_1_1", "name": "__tabbed_1", "type": "radio"},
        {"id": "__tabbed_1_2", "name": "__tabbed_1", "type": "radio"},
    ]
    assert find(html, "label") == [{"for": "__tabbed_1_1"}, {"for": "__tabbed_1_2"}]
    for cls in ("tabbed-labels", "tabbed-content", "tabbed-block"):
        assert f'class="{cls}"' in html


def test_it_numbers_tab_sets_per_document() -> None:
    source = '=== "A"\n\n    a\n\n=== "B"\n\n    b\n\ntext\n\n=== "C"\n\n    c\n'
    ids = [attrs["id"] for attrs in find(render_markdown(source).html, "input")]

    assert ids == ["__tabbed_1_1", "__tabbed_1_2", "__tabbed_2_1"]


def test_it_prefixes_tab_ids_so_two_documents_on_one_page_do_not_collide() -> None:
    source = '=== "Chrome"\n\n    a\n\n=== "Firefox"\n\n    b\n'
    html = render_markdown(source, tab_prefix="fix-cookies").html

    assert find(html, "input") == [
        {
            "checked": "",
            "id": "__tabbed_fix-cookies_1_1",
            "name": "__tabbed_fix-cookies_1",
            "type": "radio",
        },
        {"id": "__tabbed_fix-cookies_1_2", "name": "__tabbed_fix-cookies_1", "type": "radio"},
    ]
    assert find(html, "label") == [
        {"for": "__tabbed_fix-cookies_1_1"},
        {"for": "__tabbed_fix-cookies_1_2"},
    ]


def test_it_reduces_a_tab_prefix_to_safe_characters() -> None:
    source = '=== "Chrome"\n\n    a\n'
    html = render_markdown(source, tab_prefix='Fix_Two" onclick="x').html

    assert find(html, "label") == [{"for": "__tabbed_fix-two-onclick-x_1_1"}]


def test_it_keeps_lists_quotes_and_inline_markup() -> None:
    source = (
        "3. three\n4. four\n\n> quoted\n\n---\n\n"
        "*em* **strong** <kbd>Ctrl</kbd> <mark>m</mark> <del>d</del> <ins>i</ins> H<sub>2</sub>O "
        "x<sup>2</sup>  \nnext line\n"
    )
    html = render_markdown(source).html

    assert find(html, "ol") == [{"start": "3"}]
    for tag in (
        "blockquote",
        "hr",
        "em",
        "strong",
        "kbd",
        "mark",
        "del",
        "ins",
        "sub",
        "sup",
        "br",
    ):
        assert f"<{tag}>" in html, tag


# --- Links and images --------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "https://help.openai.com/",
        "http://example.com/a?b=c#d",
        "mailto:support@example.com",
        "/articles/clear-cookies/",
        "#clear-cookies",
        "../other/",
    ],
)
def test_it_keeps_safe_link_targets(href: str) -> None:
    html = render_markdown(f'[x]({href} "Title")').html

    assert find(html, "a") == [{"href": href, "title": "Title"}]


@pytest.mark.parametrize(
    "href",
    [
        "ftp://example.com/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "tel:123",
        "data:,x",
        "java\ufffdscript:alert(1)",
    ],
)
def test_it_drops_other_link_schemes(href: str) -> None:
    html = render_markdown(f"[x]({href})").html

    assert find(html, "a") == [{}]


def test_it_adds_no_rel_and_no_target_to_links() -> None:
    html = sanitize_html('<a href="https://example.com" target="_blank" rel="opener">x</a>')

    assert html == '<a href="https://example.com">x</a>'


def test_it_keeps_images_of_the_sites_own_media_and_static_files_with_their_size() -> None:
    html = sanitize_html(
        '<img src="/media/images/0123abcd.png" alt="A" title="T" width="640" height="80%">'
        '<img src="/static/favicon.svg" alt="B">'
    )

    assert find(html, "img") == [
        {"src": "/media/images/0123abcd.png", "alt": "A", "title": "T", "width": "640"},
        {"src": "/static/favicon.svg", "alt": "B"},
    ]


@pytest.mark.parametrize(
    "src",
    [
        "https://cdn.example/a.png",
        "http://127.0.0.1/media/a.png",
        "//cdn.example/media/a.png",
        "/media/../data/secret-key",
        "/articles/x/",
        "media/images/a.png",
        "/media\\images/a.png",
        "mailto:a@example.com",
        "data:image/png;base64,AAAA",
        "ftp://x/",
    ],
)
def test_it_drops_images_from_anywhere_but_the_sites_media_and_static(src: str) -> None:
    assert find(render_markdown(f"![a]({src})").html, "img") == [{"alt": "a"}]


def test_it_writes_an_id_after_each_heading_that_has_none_and_keeps_the_rest() -> None:
    source = (
        "Intro\n\n## Why it *matters*\n\n```\n## not a heading\n```\n\n"
        "    ## indented code\n\n## Why it matters\n\n## Fix cookies\n\n"
        '=== "Chrome"\n\n    ### Inside a tab\n\n## Kept {#kept}\n\n## Styled {: .x}'
    )

    result = add_heading_ids(source, reserved=frozenset({"main"}))

    assert result.source == (
        "Intro\n\n## Why it *matters* {#why-it-matters}\n\n```\n## not a heading\n```\n\n"
        "    ## indented code\n\n## Why it matters {#why-it-matters-2}\n\n"
        "## Fix cookies {#section-fix-cookies}\n\n"
        '=== "Chrome"\n\n    ### Inside a tab {#inside-a-tab}\n\n## Kept {#kept}\n\n'
        "## Styled {#styled .x}"
    )
    assert [new_id for _text, new_id in result.added] == [
        "why-it-matters", "why-it-matters-2", "section-fix-cookies", "inside-a-tab", "styled"
    ]  # fmt: skip
    assert render_markdown(result.source).missing_ids == ()
    assert add_heading_ids(result.source) == HeadingIds(result.source)


def test_heading_ids_avoid_taken_and_reserved_ids_and_fall_back_for_other_scripts() -> None:
    assert heading_id_for("Main", frozenset({"main"})) == "main-2"
    assert heading_id_for("Crème brûlée!") == "creme-brulee"
    assert heading_id_for("Ошибка 1020") == "1020"
    assert heading_id_for("Доступ") == "section"
    assert heading_id_for("FAQ: more") == "section-faq-more"


# --- Limits and malformed input ----------------------------------------------------------


def test_it_refuses_oversize_input_and_names_the_limit() -> None:
    for render in (render_markdown, render_inline):
        with pytest.raises(MarkdownTooLarge, match=f"{MAX_SOURCE_CHARS:,}"):
            render("x" * (MAX_SOURCE_CHARS + 1))


def test_it_renders_input_exactly_at_the_limit() -> None:
    assert render_markdown("x" * MAX_SOURCE_CHARS).html.startswith("<p>x")


def test_it_turns_runaway_nesting_into_too_large() -> None:
    source = "".join("    " * depth + "- x\n" for depth in range(260))

    with pytest.raises(MarkdownTooLarge, match="nested too deeply"):
        render_markdown(source)


@pytest.mark.parametrize(
    "source",
    [
        "<div><p>unclosed",
        "a < b and c <d",
        "</div></div></span>",
        "<a href='https://x.example'>never closed",
        "**bold never closed",
        "[link never closed](https://x.example",
        "```python\nfence never closed",
        "!!! warning\n",
        '=== "Tab with no body"\n',
        "| a |\n|---|\n| 1 | 2 | 3 |",
        "<",
        "",
        "\x00\x01\ufffd",
        "{#just-an-attr-list}",
        "## {#empty-heading}",
    ],
)
def test_it_renders_malformed_input_without_error(source: str) -> None:
    rendered = render_markdown(source)

    assert_inert(rendered.html)
    assert_inert(render_inline(source))


# --- Hostile input -----------------------------------------------------------------------


def test_there_are_enough_xss_vectors() -> None:
    assert len(XSS_VECTORS) >= 60
    assert len(set(XSS_VECTORS)) == len(XSS_VECTORS)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_render_markdown_neutralises(vector: str) -> None:
    assert_inert(render_markdown(vector).html)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_render_inline_neutralises(vector: str) -> None:
    assert_inert(render_inline(vector))


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_sanitize_html_neutralises(vector: str) -> None:
    assert_inert(sanitize_html(vector))


def test_it_keeps_template_looking_text_as_text() -> None:
    html = render_inline("Type {{ name }} or {% now %} here")

    assert html == "Type {{ name }} or {% now %} here"


def test_it_treats_the_checker_as_strict_enough() -> None:
    # Guards the guard: the assertions above must fail on the raw payloads.
    for payload in ['<a href="jav&#x09;ascript:x">', '<img src=x onerror="x">', "<svg>"]:
        with pytest.raises(AssertionError):
            assert_inert(payload)


# --- render_inline and sanitize_html -----------------------------------------------------


def test_render_inline_unwraps_a_single_paragraph() -> None:
    assert render_inline("Clear **cookies** for `chatgpt.com`.") == (
        "Clear <strong>cookies</strong> for <code>chatgpt.com</code>."
    )


def test_render_inline_keeps_block_markup_for_longer_snippets() -> None:
    assert render_inline("One.\n\nTwo.") == "<p>One.</p>\n<p>Two.</p>"
    assert render_inline("- a\n- b").startswith("<ul>")


def test_render_inline_gives_no_ids() -> None:
    assert "id=" not in render_inline("## Heading {#heading}\n\ntext")


def test_sanitize_html_keeps_slug_ids_on_headings_only() -> None:
    html = sanitize_html('<h2 id="ok">a</h2><h2 id="Bad">b</h2><p id="ok2">c</p>')

    assert html == '<h2 id="ok">a</h2><h2>b</h2><p>c</p>'


def test_sanitize_html_filters_classes() -> None:
    html = sanitize_html('<div class="admonition warning sr-only">x</div><p class="k">y</p>')

    assert html == '<div class="admonition warning">x</div><p>y</p>'


# --- Behaviour ---------------------------------------------------------------------------


ARTICLE = """\
# Access denied (error 1020) {#top}

## What it means {#what-it-means}

Cloudflare blocked the request. See [the status page](https://status.example.com).

=== "Chrome"

    1. Open `chrome://settings/cookies`.
    2. Remove **chatgpt.com**.

=== "Firefox"

    Open *Settings*.

!!! tip "Quick check"
    Try a private window.

```bash
curl -I https://chatgpt.com
```

| Step | Time |
|:-----|-----:|
| Clear cookies | 1 min |
"""


def test_rendering_is_deterministic() -> None:
    first = render_markdown(ARTICLE)

    assert render_markdown(ARTICLE) == first
    assert render_inline(ARTICLE) == render_inline(ARTICLE)


def test_rendering_is_independent_across_threads() -> None:
    expected = render_markdown(ARTICLE)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: render_markdown(ARTICLE), range(32)))

    assert all(result == expected for result in results)


def test_it_runs_without_django() -> None:
    # Load the file on its own: the helpcenter package __init__ pulls in Celery and Django.
    code = (
        "import importlib.util, sys\n"
        f"path = {str(ROOT / 'helpcenter' / 'markdown.py')!r}\n"
        "spec = importlib.util.spec_from_file_location('md', path)\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['md'] = module\n"
        "spec.loader.exec_module(module)\n"
        "assert module.render_markdown('## A {#a}').headings[0].id == 'a'\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")
