"""A ~30 KB help article that uses every Markdown feature the site allows.

Tabs, admonitions, collapsible details, a highlighted code block and a table in every
section: the most expensive kind of article to render, shared by bench/render_markdown.py
and bench/search.py (which times saving it). No two sections, and no two revisions, share
a code block: the renderer caches highlighted blocks, and a benchmark that repeated one
block would time that cache instead of Pygments.
"""

from __future__ import annotations

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

# Step {n}, revision {revision}: try the page again with a {timeout} s timeout.
response = httpx.get("https://chatgpt.com/step-{n}", timeout={timeout}, follow_redirects=True)
attempt_{n}_{revision} = (response.status_code, response.headers.get("cf-ray"))
print("step {n}", *attempt_{n}_{revision})
```

| Check | Expected | If not |
|:------|:--------:|-------:|
| DNS resolves | yes | flush DNS (step {n}) |
| TLS handshake | ok | check the clock |
| HTTP status | 200 | see step {n}, revision {revision} |

"""


def build_article(target_chars: int = 30_000, revision: int = 0) -> str:
    """The article; each ``revision`` changes every code block (a real edit's worst case)."""
    parts = ["# ChatGPT says Access denied (error 1020) {#top}\n\n"]
    n = 1
    while sum(map(len, parts)) < target_chars:
        parts.append(SECTION.format(n=n, revision=revision, timeout=5 + n + revision))
        n += 1
    return "".join(parts)
