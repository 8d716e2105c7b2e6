"""A ~30 KB help article that uses every Markdown feature the site allows.

Tabs, admonitions, collapsible details, a highlighted code block and a table in every
section: the most expensive kind of article to render, shared by bench/render_markdown.py
and bench/search.py (which times saving it).
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
