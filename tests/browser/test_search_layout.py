"""The header search looks the same on every page, and the search page has one box."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from tests.browser.fixtures import screenshot

PAGES = [
    "/articles/chatgpt-access-denied-1020/",
    "/checks/",
    "/status/",
    "/categories/cloudflare-errors/",
]

BOXES = """() => [...document.querySelectorAll('input[type=search]')].map(input => {
  const field = input.getBoundingClientRect();
  const button = input.form.querySelector('button').getBoundingClientRect();
  return {id: input.id, height: field.height, top: field.top,
          buttonHeight: button.height, buttonTop: button.top};
})"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_header_search_has_one_size_and_the_search_page_one_box(
    start_web: Any, browser: Any
) -> None:
    call_command("import_content", verbosity=0)
    call_command("seed_synonyms", verbosity=0)
    web = start_web()
    for width in (375, 1280):
        page = browser.new_page(viewport={"width": width, "height": 900})
        sizes = set()
        for path in PAGES:
            page.goto(web.url + path)
            [box] = page.evaluate(BOXES)
            # The button sits level with the field, as tall as it.
            assert (box["buttonTop"], box["buttonHeight"]) == (box["top"], box["height"]), path
            sizes.add(box["height"])
        assert len(sizes) == 1, f"header search heights at {width}px: {sizes}"

        for path, own_box in (("/", "home-q"), ("/search/?q=vloudflare", "search-q")):
            page.goto(web.url + path)
            assert [box["id"] for box in page.evaluate(BOXES)] == [own_box], path

        page.goto(web.url + "/search/?q=vloudflare")
        correction = page.locator(".search-correction")
        assert correction.inner_text().startswith("Showing results for cloudflare.")
        correction.get_by_role("link", name="Search instead for vloudflare").click()
        page.get_by_text("Nothing matches").wait_for()
        screenshot(page, f"search-exact-{width}")
        page.close()
