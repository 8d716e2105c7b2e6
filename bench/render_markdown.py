"""Median time to render and sanitise a generated ~30 KB help article.

Run: python bench/render_markdown.py [repeats]. Prints numbers only; asserts nothing.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from pathlib import Path

# Load the module by path: the helpcenter package __init__ imports Celery and Django,
# which this benchmark neither needs nor wants to time.
_PATH = Path(__file__).resolve().parent.parent / "helpcenter" / "markdown.py"
_spec = importlib.util.spec_from_file_location("helpcenter_markdown", _PATH)
assert _spec and _spec.loader
markdown_module = importlib.util.module_from_spec(_spec)
sys.modules["helpcenter_markdown"] = markdown_module
_spec.loader.exec_module(markdown_module)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dense_article import build_article  # noqa: E402


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    article = build_article()
    rendered = markdown_module.render_markdown(article)  # warm-up (imports, Pygments lexers)
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        markdown_module.render_markdown(article)
        timings.append(time.perf_counter() - start)
    sanitise = []
    for _ in range(repeats):
        start = time.perf_counter()
        markdown_module.sanitize_html(rendered.html)
        sanitise.append(time.perf_counter() - start)
    print(f"source: {len(article):,} chars, {len(rendered.headings)} headings in the outline")
    print(f"output: {len(rendered.html):,} chars of HTML")
    print(
        f"render_markdown (render + sanitise), median of {repeats}: "
        f"{statistics.median(timings) * 1000:.1f} ms "
        f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f})"
    )
    print(f"  of which sanitize_html alone, median: {statistics.median(sanitise) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
