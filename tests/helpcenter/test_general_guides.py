"""The shipped guides: a general guide (no ``service:`` in its front matter) names no service.

General guides serve every service behind Cloudflare, so their words, and the
guides they link to, must fit whichever service the visitor came for; the
service is shown around the text, never in it.
"""

from __future__ import annotations

import re
from pathlib import Path

import frontmatter
import pytest
import yaml

from helpcenter.management.commands.import_content import DEFAULT_PATH

# The services the starter data knows (ChatGPT by OpenAI, then Discord), in the
# spellings visitors and pages use: "ChatGPT", "Chat GPT", "chatgpt.com", "OpenAI".
SERVICE_NAMES = re.compile(r"chat\s?-?gpt|open\s?ai|discord", re.IGNORECASE)
ARTICLE_LINK = re.compile(r"/articles/([a-z0-9-]+)/")
GUIDES = DEFAULT_PATH / "articles"


def _service(folder: Path) -> str | None:
    service = frontmatter.load(folder / "index.md").get("service")
    return str(service) if service else None


def _files(folder: Path) -> list[Path]:
    return [folder / "index.md", *sorted((folder / "fixes").glob("*.md"))]


GENERAL = sorted(f for f in GUIDES.iterdir() if f.is_dir() and _service(f) is None)
GENERAL_SLUGS = {folder.name for folder in GENERAL}


def test_the_guides_are_sorted_into_general_and_chatgpt() -> None:
    # So the checks below cannot pass by finding no general guide at all.
    assert {
        "cloudflare-error-1020-access-denied",
        "cloudflare-error-1015-rate-limited",
        "cloudflare-error-1009-country-blocked",
        "cloudflare-address-banned-1005-1006",
        "cloudflare-just-a-moment-loop",
        "cloudflare-5xx-service-outage",
    } <= GENERAL_SLUGS
    assert _service(GUIDES / "chatgpt-access-denied-1020") == "chatgpt"
    assert _service(GUIDES / "is-chatgpt-down") == "chatgpt"


@pytest.mark.parametrize("folder", GENERAL, ids=lambda folder: folder.name)
def test_a_general_guide_names_no_service(folder: Path) -> None:
    # The whole file: title, short title, summary and FAQ live in the front matter.
    found = {
        path.relative_to(GUIDES).as_posix(): sorted(set(SERVICE_NAMES.findall(path.read_text())))
        for path in _files(folder)
    }
    assert {path: names for path, names in found.items() if names} == {}


@pytest.mark.parametrize("folder", GENERAL, ids=lambda folder: folder.name)
def test_a_general_guide_leads_only_to_general_guides(folder: Path) -> None:
    # A link to one service's guide would name that service on every service's page.
    linked = set(frontmatter.load(folder / "index.md").get("related") or [])
    for path in _files(folder):
        linked |= set(ARTICLE_LINK.findall(path.read_text()))
    assert linked - GENERAL_SLUGS == set()


def test_the_categories_name_no_service() -> None:
    categories = yaml.safe_load((DEFAULT_PATH / "categories.yml").read_text())
    assert [c["slug"] for c in categories if SERVICE_NAMES.search(str(c))] == []


def test_the_general_1020_guide_offers_the_chatgpt_guides_fixes_under_the_same_slugs() -> None:
    # Verdict rules name fixes by slug: the same slug lets a rule point at the guide of
    # the visitor's service or at the general one. Only the status check is ChatGPT's own.
    def fix_slugs(slug: str) -> set[str]:
        return {
            str(frontmatter.load(path)["slug"]) for path in (GUIDES / slug / "fixes").glob("*.md")
        }

    chatgpt = fix_slugs("chatgpt-access-denied-1020") - {"check-service-status"}
    assert chatgpt <= fix_slugs("cloudflare-error-1020-access-denied")
