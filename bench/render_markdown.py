"""Time to render and sanitise the ~30 KB dense article (bench/dense_article.py).

Run: python bench/render_markdown.py [repeats] [--no-write]. Prints the figures and writes
them between the render-bench markers in docs/benchmarks.md.

Two cases, because the renderer keeps a cache of highlighted code blocks:
- a new revision each repeat: every code block is new text, so nothing comes from that
  cache (what saving a real edit of every section costs);
- the same text again: every block comes from the cache (what saving an article whose
  code did not change costs).
The cache hits are counted and printed beside each figure, so neither hides the other.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- render-bench:start -->"
END = "<!-- render-bench:end -->"

# Load the module by path: the helpcenter package __init__ imports Celery and Django,
# which this benchmark neither needs nor wants to time.
_PATH = ROOT / "helpcenter" / "markdown.py"
_spec = importlib.util.spec_from_file_location("helpcenter_markdown", _PATH)
assert _spec and _spec.loader
markdown_module = importlib.util.module_from_spec(_spec)
sys.modules["helpcenter_markdown"] = markdown_module
_spec.loader.exec_module(markdown_module)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dense_article import build_article  # noqa: E402


def timed_renders(articles: list[str], fresh: bool) -> tuple[list[float], int, int]:
    """Render each article; (seconds each, code blocks rendered, of which from the cache).

    ``fresh`` empties the cache before each render (the cache is bounded: counting its
    growth would take evictions for hits).
    """
    cache = markdown_module._HIGHLIGHT_CACHE
    timings, blocks, new = [], 0, 0
    for article in articles:
        if fresh:
            cache.clear()
        before = len(cache)
        start = time.perf_counter()
        markdown_module.render_markdown(article)
        timings.append(time.perf_counter() - start)
        blocks += article.count("```python")
        new += len(cache) - before
    return timings, blocks, blocks - new


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    repeats = int(args[0]) if args else 30
    markdown_module.render_markdown(build_article(revision=-1))  # imports, Pygments lexers
    markdown_module._HIGHLIGHT_CACHE.clear()
    article = build_article()
    rendered = markdown_module.render_markdown(article)
    cold, cold_blocks, cold_hits = timed_renders(
        [build_article(revision=r + 1) for r in range(repeats)], fresh=True
    )
    warm, warm_blocks, warm_hits = timed_renders([article] * repeats, fresh=False)
    sanitise = []
    for _ in range(repeats):
        start = time.perf_counter()
        markdown_module.sanitize_html(rendered.html)
        sanitise.append(time.perf_counter() - start)

    def ms(values: list[float]) -> str:
        return (
            f"{statistics.median(values) * 1000:.1f} ms "
            f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"
        )

    lines = [
        f"Source {len(article):,} chars, {len(rendered.headings)} headings in the outline, "
        f"{len(rendered.html):,} chars of HTML; median of {repeats} renders (render + sanitise).",
        "",
        "| case | render + sanitise | highlighted blocks from the cache |",
        "| --- | --- | --- |",
        f"| a new revision each time (every code block new) | {ms(cold)} | "
        f"{cold_hits} of {cold_blocks} |",
        f"| the same text again (every code block cached) | {ms(warm)} | "
        f"{warm_hits} of {warm_blocks} |",
        f"| of which sanitising alone | {ms(sanitise)} | - |",
    ]
    print("\n".join(lines))
    if "--no-write" not in sys.argv:
        write(lines)


def write(lines: list[str]) -> None:
    machine = (
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} when written"
    )
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join(
        [START, f"Measured {date} with `bench/render_markdown.py` on {machine}.", "", *lines, END]
    )
    text = DOC.read_text()
    if START in text and END in text:
        head, _, rest = text.partition(START)
        text = head + section + rest.partition(END)[2]
    else:
        text = text.replace(
            "\n## Diagnostics\n", f"\n### Rendering\n\n{section}\n\n## Diagnostics\n", 1
        )
    DOC.write_text(text)
    print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
