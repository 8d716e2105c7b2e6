"""What search engines and link previewers read: sitemap, robots, feed, meta tags, JSON-LD."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html import escape, unescape
from typing import Any
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.http import http_date

from helpcenter import seo
from helpcenter.models import Article, Category, FaqEntry, Fix
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

SITE = settings.SITE_URL.rstrip("/")


def _json_ld(html: str) -> dict[str, Any]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    return {node["@type"]: node for node in data["@graph"]}


def _meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert match, key
    return match.group(1)


SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _sitemap(client: Any) -> dict[str, str | None]:
    """Each <loc> of /sitemap.xml with its <lastmod> (None when there is none)."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    entries = {}
    for url in ElementTree.fromstring(response.content).findall("s:url", SITEMAP_NS):
        lastmod = url.find("s:lastmod", SITEMAP_NS)
        entries[url.findtext("s:loc", namespaces=SITEMAP_NS)] = (
            lastmod.text if lastmod is not None else None
        )
    return entries


def test_the_sitemap_lists_every_published_page(client: Any) -> None:
    make_article(fixes=2)
    make_article("draft-guide", status="draft")
    make_article("scheduled", published_at=timezone.now() + timedelta(days=2))
    locs = set(_sitemap(client))
    assert f"{SITE}/" in locs
    assert f"{SITE}/status/" in locs
    assert f"{SITE}/articles/access-denied/" in locs
    assert f"{SITE}/articles/access-denied/fix/step-1/" in locs
    assert f"{SITE}/articles/access-denied/fix/step-2/" in locs
    assert f"{SITE}/categories/errors/" in locs
    assert not any("draft-guide" in loc or "scheduled" in loc for loc in locs)


def _stamp(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def test_sitemap_lastmod_is_when_each_page_last_changed(client: Any) -> None:
    long_ago = timezone.now() - timedelta(days=30)
    article = make_article(fixes=2)
    other = make_article("other-guide", fixes=1)
    # Back-date everything, then change one fix: only that guide's pages move on.
    for model in (Article, Fix, FaqEntry, Category):
        model.objects.update(updated_at=long_ago)
    fix = article.fixes.get(slug="step-1")
    fix.summary = "Edited."
    fix.save()
    fix.refresh_from_db()
    changed = fix.updated_at
    entries = _sitemap(client)

    article_page = client.get(article.get_absolute_url())
    assert _stamp(entries[f"{SITE}/articles/access-denied/"]) == changed
    assert http_date(changed.timestamp()) == article_page["Last-Modified"]
    assert _stamp(entries[f"{SITE}/articles/access-denied/fix/step-2/"]) == changed
    assert _stamp(entries[f"{SITE}/articles/other-guide/"]) == long_ago
    # Lists show titles and summaries only: a fix's edit leaves them as they were,
    # last changed when the newer guide was published.
    listed = max(a.published_at for a in (article, other) if a.published_at)
    assert _stamp(entries[f"{SITE}/categories/errors/"]) == listed
    assert _stamp(entries[f"{SITE}/"]) == listed


def test_the_sitemap_lets_the_browsers_xml_viewer_style_it(client: Any) -> None:
    response = client.get("/sitemap.xml")
    policy = response["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to 'none'
    # Every other page keeps the strict policy.
    assert "unsafe-inline" not in client.get("/robots.txt")["Content-Security-Policy"]


def test_robots_txt_names_the_sitemap_by_absolute_url(client: Any) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert f"Sitemap: {SITE}/sitemap.xml" in response.content.decode().splitlines()


def test_the_atom_feed_lists_published_articles_newest_change_first(client: Any) -> None:
    older = make_article("older")
    make_article("newer")
    make_article("draft-guide", status="draft")
    older.summary = "Updated just now."
    older.save()
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = ElementTree.fromstring(response.content).findall("a:entry", ns)
    links = [entry.find("a:link", ns).attrib["href"] for entry in entries]  # type: ignore[union-attr]
    assert links == [f"{SITE}/articles/older/", f"{SITE}/articles/newer/"]


def test_the_article_page_carries_faq_howto_and_breadcrumb_json_ld(client: Any) -> None:
    article = make_article(fixes=3, faq=2)
    graph = _json_ld(client.get(article.get_absolute_url()).content.decode())

    assert [q["name"] for q in graph["FAQPage"]["mainEntity"]] == ["Question 1?", "Question 2?"]
    assert graph["FAQPage"]["mainEntity"][0]["acceptedAnswer"]["text"] == "Answer 1."
    steps = graph["HowTo"]["step"]
    assert [(s["position"], s["name"]) for s in steps] == [
        (1, "Try step 1"),
        (2, "Try step 2"),
        (3, "Try step 3"),
    ]
    assert steps[1]["url"] == f"{SITE}/articles/access-denied/fix/step-2/"
    crumbs = graph["BreadcrumbList"]["itemListElement"]
    assert [c["name"] for c in crumbs] == ["Home", "Errors", "Guide access-denied"]
    assert crumbs[-1]["item"] == f"{SITE}/articles/access-denied/"


def test_json_ld_cannot_close_its_script_element(client: Any) -> None:
    article = make_article(faq=0)
    entry = article.faq.create(question="</script><script>alert(1)</script>", answer="a & b")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "</script><script>alert(1)" not in html
    assert _json_ld(html)["FAQPage"]["mainEntity"][0]["name"] == entry.question


def test_the_fix_page_has_its_own_previews_and_canonical(client: Any) -> None:
    article = make_article(fixes=3)
    article.short_title = "ChatGPT error 1020"
    article.save()
    article.fixes.filter(slug="step-2").update(title="Clear the site's cookies")
    html = client.get("/articles/access-denied/fix/step-2/").content.decode()

    title = f"Clear the site's cookies — fixing ChatGPT error 1020 · {settings.SITE_NAME}"
    assert f"<title>{escape(title)}</title>" in html
    assert unescape(_meta(html, "og:title")) == title
    assert unescape(_meta(html, "twitter:title")) == title
    assert unescape(_meta(html, "og:site_name")) == settings.SITE_NAME
    assert _meta(html, "description") == "Summary of step 2."
    assert _meta(html, "og:description") == "Summary of step 2."
    image = _meta(html, "og:image")
    assert image.startswith(f"{SITE}/media/share/fix-") and image.endswith(".png")
    canonical = f"{SITE}/articles/access-denied/fix/step-2/"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert _meta(html, "og:url") == canonical
    crumbs = _json_ld(html)["BreadcrumbList"]["itemListElement"]
    assert crumbs[-1]["name"] == "Fix 2: Clear the site's cookies"


def test_without_a_short_title_a_fix_page_names_the_guide_by_its_title(client: Any) -> None:
    make_article(fixes=1)
    html = client.get("/articles/access-denied/fix/step-1/").content.decode()
    assert unescape(_meta(html, "og:title")) == (
        f"Try step 1 — Guide access-denied · {settings.SITE_NAME}"
    )


def test_long_summaries_are_cut_to_160_characters_at_a_word(client: Any) -> None:
    article = make_article(fixes=1)
    words = "Error 1020 means a security filter in front of the service refused your connection"
    article.summary = f"{words}, and here is what to do about it, step by step, in order."
    article.summary += " " + article.summary
    article.save()
    assert 160 < len(article.summary) <= 300
    html = client.get(article.get_absolute_url()).content.decode()
    for key in ("description", "og:description", "twitter:description"):
        text = unescape(_meta(html, key))
        assert len(text) <= 160
        assert text.endswith("…")
        kept = text.removesuffix("…")
        assert article.summary.startswith(kept)
        assert article.summary[len(kept)] in " ,"  # cut between words, not inside one


def test_descriptions_collapse_spaces_and_cut_long_text() -> None:
    assert seo.description("  Short   text.  ") == "Short text."
    assert seo.description("a" * 200).endswith("…")
    assert len(seo.description("a" * 200)) <= 160


def test_the_article_page_has_its_own_previews_and_canonical(client: Any) -> None:
    article = make_article()
    html = client.get(article.get_absolute_url()).content.decode()
    assert _meta(html, "og:title") == f"{article.title} · {settings.SITE_NAME}"
    assert _meta(html, "twitter:card") == "summary_large_image"
    assert _meta(html, "og:image").startswith("http")
    assert f'<link rel="canonical" href="{SITE}/articles/access-denied/">' in html


def test_the_share_image_is_a_png_that_is_served(client: Any) -> None:
    html = client.get(make_article().get_absolute_url()).content.decode()
    path = _meta(html, "og:image").removeprefix(SITE)
    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG\r\n\x1a\n")


# --- Structured data: the properties search engines require, with plain-text values ----

MARKUP = re.compile(r"<[a-z/]|\]\(|\*\*|`|&[a-z]+;|^#", re.M)


def _plain(value: Any) -> str:
    assert isinstance(value, str) and value.strip(), value
    assert not MARKUP.search(value), f"markup in {value!r}"
    return value


def _check_breadcrumbs(node: dict[str, Any]) -> None:
    items = node["itemListElement"]
    assert items
    for position, item in enumerate(items, start=1):
        assert item["@type"] == "ListItem"
        assert item["position"] == position
        _plain(item["name"])
        assert item["item"].startswith(("http://", "https://"))


def _check_faq(node: dict[str, Any]) -> None:
    assert node["mainEntity"]
    for question in node["mainEntity"]:
        assert question["@type"] == "Question"
        _plain(question["name"])
        assert question["acceptedAnswer"]["@type"] == "Answer"
        _plain(question["acceptedAnswer"]["text"])


def _check_how_to(node: dict[str, Any]) -> None:
    _plain(node["name"])
    assert node["step"]
    for position, step in enumerate(node["step"], start=1):
        assert step["@type"] == "HowToStep"
        assert step["position"] == position
        _plain(step["name"])
        _plain(step["text"])


def _structured(html: str) -> dict[str, Any]:
    graph = _json_ld(html)
    checks = {"BreadcrumbList": _check_breadcrumbs, "FAQPage": _check_faq, "HowTo": _check_how_to}
    for kind, node in graph.items():
        checks[kind](node)
    return graph


def test_article_json_ld_is_plain_text_with_every_required_property(client: Any) -> None:
    article = make_article(fixes=2, faq=0)
    article.faq.create(
        question="Is it down?",
        answer="Look at [status.openai.com](https://status.openai.com/) **first**, then `retry`.",
    )
    article.fixes.filter(slug="step-1").update(summary="")
    graph = _structured(client.get(article.get_absolute_url()).content.decode())

    assert set(graph) == {"BreadcrumbList", "HowTo", "FAQPage"}
    answer = graph["FAQPage"]["mainEntity"][0]["acceptedAnswer"]["text"]
    assert answer == "Look at status.openai.com first, then retry."


def test_each_fix_page_carries_a_how_to_for_that_fix(client: Any) -> None:
    article = make_article(fixes=3)
    article.short_title = "ChatGPT error 1020"
    article.save()
    html = client.get("/articles/access-denied/fix/step-2/").content.decode()
    graph = _structured(html)

    assert set(graph) == {"BreadcrumbList", "HowTo"}
    how_to = graph["HowTo"]
    assert how_to["name"] == "Try step 2 — fixing ChatGPT error 1020"
    assert how_to["url"] == f"{SITE}/articles/access-denied/fix/step-2/"
    assert how_to["image"] == _meta(html, "og:image")
    assert [(s["name"], s["text"]) for s in how_to["step"]] == [("Try step 2", "Do step 2.")]
