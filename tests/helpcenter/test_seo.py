"""What search engines and link previewers read: sitemap, robots, feed, meta tags, JSON-LD."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.utils import timezone

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


def test_the_sitemap_lists_every_published_article_and_fix(client: Any) -> None:
    make_article(fixes=2)
    make_article("draft-guide", status="draft")
    make_article("scheduled", published_at=timezone.now() + timedelta(days=2))
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {el.text for el in ElementTree.fromstring(response.content).findall(".//s:loc", ns)}
    assert f"{SITE}/articles/access-denied/" in locs
    assert f"{SITE}/articles/access-denied/fix/step-1/" in locs
    assert f"{SITE}/articles/access-denied/fix/step-2/" in locs
    assert f"{SITE}/categories/errors/" in locs
    assert not any("draft-guide" in loc or "scheduled" in loc for loc in locs)


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
    make_article(fixes=3)
    html = client.get("/articles/access-denied/fix/step-2/").content.decode()

    assert "<title>Fix 2: Try step 2</title>" in html
    assert _meta(html, "og:title") == "Fix 2: Try step 2"
    assert _meta(html, "twitter:title") == "Fix 2: Try step 2"
    assert _meta(html, "description") == "Summary of step 2."
    assert _meta(html, "og:description") == "Summary of step 2."
    image = _meta(html, "og:image")
    assert image.startswith(f"{SITE}/static/img/share") and image.endswith(".png")
    canonical = f"{SITE}/articles/access-denied/fix/step-2/"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert _meta(html, "og:url") == canonical
    crumbs = _json_ld(html)["BreadcrumbList"]["itemListElement"]
    assert crumbs[-1]["name"] == "Fix 2: Try step 2"


def test_the_article_page_has_its_own_previews_and_canonical(client: Any) -> None:
    article = make_article()
    html = client.get(article.get_absolute_url()).content.decode()
    assert _meta(html, "og:title") == article.title
    assert _meta(html, "twitter:card") == "summary_large_image"
    assert _meta(html, "og:image").startswith("http")
    assert f'<link rel="canonical" href="{SITE}/articles/access-denied/">' in html


def test_the_share_image_is_a_png_that_is_served(client: Any) -> None:
    html = client.get(make_article().get_absolute_url()).content.decode()
    path = _meta(html, "og:image").removeprefix(SITE)
    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG\r\n\x1a\n")
