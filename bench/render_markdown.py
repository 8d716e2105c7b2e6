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

SECTION = """\
## Step {n}: clear what the browser remembers {{#step-{n}}}

Cloudflare answered with **Access denied (error 1020)**. That means a firewall rule matched
your request, not that the service is down. See [the status page](https://status.example.com)
and [our guide](/articles/cloudflare-1020/) before you change anything.

### Per browser {{#step-{n}-browsers}}

=== "Chrome"

    1. Open `chrome://settings/content/all`.
    2. Search for *chatgpt.com* and press **Delete data**.
    3. Reload with <kbd>Ctrl</kbd>+<kbd>Shift</kbd>+<kbd>R</kbd>.

=== "Firefox"

    1. Open *Settings → Privacy & Security*.
    2. Under **Cookies and Site Data**, choose *Manage Data…*.

=== "Safari"

    - Safari → Settings → Privacy → Manage Website Data.

!!! warning "Extensions"
    Privacy extensions that rewrite headers often trigger the rule. Disable them first.

??? note "Why a VPN can matter"
    Shared exit addresses collect bad reputation; switch server or turn it off.

```python
import httpx

response = httpx.get("https://chatgpt.com/", follow_redirects=True)
print(response.status_code, response.headers.get("cf-ray"))
```

| Check | Expected | If not |
|:------|:--------:|-------:|
| DNS resolves | yes | flush DNS |
| TLS handshake | ok | check the clock |
| HTTP status | 200 | see step {n} |

"""


def build_article(target_chars: int = 30_000) -> str:
    parts = ["# ChatGPT says Access denied (error 1020) {#top}\n\n"]
    n = 1
    while sum(map(len, parts)) < target_chars:
        parts.append(SECTION.format(n=n))
        n += 1
    return "".join(parts)


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
