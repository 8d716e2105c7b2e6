"""Reading an article: the contents beside the text on a laptop, folded on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from tests.browser.fixtures import screenshot

ARTICLE = "/articles/chatgpt-access-denied-1020/"


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_contents_sit_beside_the_text_and_follow_the_reader(
    start_web: Any, browser: Any
) -> None:
    call_command("import_content", verbosity=0)
    web = start_web()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(web.url + ARTICLE)

    toc, body = _box(page, "details.toc"), _box(page, ".article-body")
    assert page.locator("details.toc").evaluate("el => el.open")
    assert toc["x"] >= body["x"] + body["width"], "the contents are beside the text"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.locator("#fixes").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 400)")
    current = page.locator("details.toc a[aria-current=location]")
    current.wait_for()
    assert current.inner_text().startswith("Fixes, in the order to try them")
    top = _box(page, "details.toc")["y"]
    assert 0 <= top <= 40, f"the contents follow the reader (top at {top}px)"
    screenshot(page, "reading-1280")
    page.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_contents_fold_and_list_the_fixes_once(start_web: Any, browser: Any) -> None:
    call_command("import_content", verbosity=0)
    web = start_web()
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(web.url + ARTICLE)

    toc = page.locator("details.toc")
    assert not toc.evaluate("el => el.open")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # Above the checks panel, as one short line until opened.
    assert _box(page, "details.toc")["y"] < _box(page, "#checks-heading")["y"]
    toc.locator("summary").click()
    toc.get_by_role("link", name="Fixes, in the order to try them (7)").wait_for()
    # The contents link to the fixes; each fix's title is a heading once, in the list below.
    assert toc.locator("a[href^='#fix-']").count() == 0
    assert page.locator("h3[id^='fix-']").count() == 7
    screenshot(page, "reading-375")
    page.close()
