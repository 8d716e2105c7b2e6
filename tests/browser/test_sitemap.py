"""/sitemap.xml opened in Chromium shows the XML viewer's styled tree, not raw text."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from tests.browser.fixtures import screenshot

# The viewer's own stylesheet draws this rule under its header; when a CSP blocks
# the stylesheet, the header has no border and the raw source shows above the tree.
VIEWER_STATE = """() => {
  const header = document.querySelector("div.header");
  const source = document.getElementById("webkit-xml-viewer-source-xml");
  return {
    header: header ? header.textContent.trim() : null,
    border: header ? getComputedStyle(header).borderBottomWidth : null,
    sourceShown: source ? getComputedStyle(source).display !== "none" : null,
  };
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_shows_the_sitemap_as_its_styled_xml_tree(start_web: Any, page: Any) -> None:
    call_command("import_content", verbosity=0)
    web = start_web()
    response = page.goto(web.url + "/sitemap.xml")
    assert response is not None and response.status == 200
    page.wait_for_selector("div.header")
    state = page.evaluate(VIEWER_STATE)
    screenshot(page, "sitemap-xml-viewer")

    assert state["header"].startswith("This XML file does not appear to have any style")
    assert state["border"] == "2px"
    assert state["sourceShown"] is False
    assert page.console_errors == []
    assert "/articles/chatgpt-access-denied-1020/" in page.inner_text("body")
