"""What markdown.py does to stay fast: refusing pathological brackets, reusing renderers,
caching highlighted code. Behaviour must not change, so these compare outputs, never times.
"""

from __future__ import annotations

import threading

import pytest

from helpcenter import markdown as md_module
from helpcenter.markdown import (
    MAX_UNMATCHED_BRACKETS,
    MarkdownTooComplex,
    MarkdownTooLarge,
    render_inline,
    render_markdown,
)

ARTICLE = """\
## Clear the cookies {#clear}

=== "Chrome"

    Open the [settings](https://example.com/) and press **Delete**.

=== "Firefox"

    Open *Settings*.

```python
print("cf-ray")
```
"""


# A hang guard only: without the pre-check the 8,000-bracket input takes tens of seconds.
@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "source",
    [
        "[" * 2_000,
        "[" * 8_000,
        "[a " * 3_000,
        "Intro.\n\n" + "x[" * 500 + "\n\nOutro.",
    ],
)
def test_unclosed_brackets_are_refused_before_python_markdown_sees_them(source: str) -> None:
    with pytest.raises(MarkdownTooComplex, match="more '\\[' than '\\]'"):
        render_markdown(source)
    with pytest.raises(MarkdownTooComplex):
        render_inline(source)


def test_too_complex_is_a_too_large_error_so_existing_handlers_catch_it() -> None:
    assert issubclass(MarkdownTooComplex, MarkdownTooLarge)
    assert issubclass(MarkdownTooComplex, ValueError)


def test_brackets_up_to_the_limit_and_spread_over_paragraphs_still_render() -> None:
    at_limit = "[" * MAX_UNMATCHED_BRACKETS
    spread = "\n\n".join(["[" * (MAX_UNMATCHED_BRACKETS // 2)] * 6)
    matched = "[x](/a) " * 400

    assert "[" * MAX_UNMATCHED_BRACKETS in render_markdown(at_limit).html
    assert render_markdown(spread).html.count("<p>") == 6
    assert render_markdown(matched).html.count('<a href="/a">') == 400


def test_a_reused_renderer_gives_each_document_its_own_headings_and_tabs() -> None:
    first = render_markdown(ARTICLE)
    other = render_markdown("## Another {#another}\n\nText.")
    again = render_markdown(ARTICLE)

    assert first == again
    assert [h.id for h in other.headings] == ["another"]
    # Tab ids restart per document: a reused instance must not keep counting.
    assert "__tabbed_1_1" in again.html and "__tabbed_2_" not in again.html


def test_a_failed_render_does_not_leak_into_the_next() -> None:
    expected = render_markdown(ARTICLE)
    nested = "".join("    " * depth + "- x\n" for depth in range(260))
    with pytest.raises(MarkdownTooLarge, match="nested too deeply"):
        render_markdown(nested)

    assert render_markdown(ARTICLE) == expected


def test_threads_render_the_same_html_as_one_thread() -> None:
    expected = render_markdown(ARTICLE)
    results: list[object] = []

    def work() -> None:
        for _ in range(5):
            results.append(render_markdown(ARTICLE))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [expected] * 20


def test_cached_highlighting_returns_what_pygments_returned() -> None:
    md_module._HIGHLIGHT_CACHE.clear()
    fresh = render_markdown(ARTICLE).html
    assert len(md_module._HIGHLIGHT_CACHE) == 1

    cached = render_markdown(ARTICLE).html
    other_language = render_markdown(ARTICLE.replace("```python", "```text")).html

    assert cached == fresh
    assert '<span class="nb">print</span>' in fresh
    assert '<span class="nb">' not in other_language
    assert len(md_module._HIGHLIGHT_CACHE) == 2


# Each inline pattern's trigger, in a text that also has plain neighbours.
INLINE_SAMPLES = [
    "Plain words only, nothing to match.",
    "Run `curl -I` first.",
    "A \\*literal\\* star.",
    "See [the guide](https://example.com/) and ![logo](https://example.com/a.png).",
    "A [reference][ref] and a [short] one.\n\n[ref]: https://example.com/r\n[short]: /s",
    "Mail <help@example.com> or open <https://example.com/>.",
    "Line one  \nline two.",
    "Press <kbd>Ctrl</kbd> &amp; wait &hellip;",
    "Some *emphasis*, __strong__ and ***both***; snake_case_word stays.",
]


def test_texts_without_inline_markup_skip_the_pattern_loop_with_identical_output() -> None:
    md, _ = md_module._article_renderer()
    fast = md.treeprocessors["inline"]
    assert isinstance(fast, md_module._PlainTextFastInline) and fast.skip_plain
    for sample in [*INLINE_SAMPLES, ARTICLE, "\n\n".join(INLINE_SAMPLES)]:
        quick = render_markdown(sample).html
        fast.skip_plain = False  # the stock loop over every pattern
        try:
            assert render_markdown(sample).html == quick, sample
        finally:
            fast.skip_plain = True


def test_an_extension_with_other_inline_patterns_turns_the_shortcut_off() -> None:
    import markdown

    md = markdown.Markdown(extensions=["pymdownx.mark", md_module._PlainTextFastInlineExtension()])
    assert md.treeprocessors["inline"].skip_plain is False
    assert md.convert("A ==marked== word.") == "<p>A <mark>marked</mark> word.</p>"
