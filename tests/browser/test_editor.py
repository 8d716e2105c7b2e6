"""Editors in a real browser: live preview, saving to the public page, and edit conflicts.

Served by gunicorn as in production, under the site's strict CSP: the admin,
htmx and the editor script must run without a single violation.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from helpcenter import editing
from helpcenter.models import Article
from tests.browser.fixtures import ARTIFACTS, screenshot
from tests.browser.test_accessibility import WATCH_CSP
from tests.helpcenter.factories import make_article

PASSWORD = "a-long-browser-password-7"


def _editor(username: str, first_name: str) -> User:
    user = User.objects.create_user(
        username, password=PASSWORD, first_name=first_name, is_staff=True
    )
    user.groups.add(Group.objects.get(name=editing.EDITOR_GROUP))
    return user


def _get(url: str, etag: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url)
    if etag:
        request.add_header("If-None-Match", etag)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), ""


def _signed_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    return page


def _no_csp_violations(page: Any) -> None:
    assert page.evaluate("window.__cspViolations") == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_editor_sees_the_preview_and_the_public_page_update(
    start_web: Any, browser: Any
) -> None:
    _editor("writer", "Wren")
    article = make_article("cookies-guide")
    web = start_web()
    public = f"{web.url}/articles/cookies-guide/"
    status, headers, html = _get(public)
    assert status == 200 and "Freshly edited" not in html
    old_etag = headers["ETag"]

    page = _signed_in(browser, web.url, "writer")
    page.goto(f"{web.url}/admin/helpcenter/article/{article.pk}/change/")
    preview = page.locator("#id_body-preview")
    preview.locator("h2#what-it-means").wait_for()  # the initial preview, on load

    body = "Freshly edited intro.\n\n## Why it matters {#why}\n\n- **Bold** point\n\n## No id"
    page.fill("#id_body", body)
    preview.locator("strong", has_text="Bold").wait_for()
    assert preview.locator("h2#why").count() == 1
    # The preview shows the id the heading will get on save.
    preview.get_by_text("Heading 'No id' gets the link id #no-id when you save.").wait_for()
    assert preview.locator("h2#no-id").count() == 1
    screenshot(page, "editor-preview")
    page.locator(".field-body .editor-split").first.screenshot(
        path=str(ARTIFACTS / "editor-preview-split.png")
    )

    # Saved with the id written into the text, where it stays.
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    assert page.input_value("#id_body") == body.replace("## No id", "## No id {#no-id}")
    _no_csp_violations(page)
    screenshot(page, "editor-saved")

    status, headers, html = _get(public, etag=old_etag)
    assert status == 200, "the old ETag must not validate the edited page"
    assert headers["ETag"] != old_etag
    assert "Freshly edited intro." in html and 'id="no-id"' in html
    assert _get(public, etag=headers["ETag"])[0] == 304
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_concurrent_saves_is_refused_with_a_diff(
    start_web: Any, browser: Any
) -> None:
    _editor("ana", "Ana")
    _editor("bo", "Bo")
    article = make_article("shared-guide")
    web = start_web()
    url = f"{web.url}/admin/helpcenter/article/{article.pk}/change/"
    ana = _signed_in(browser, web.url, "ana")
    bo = _signed_in(browser, web.url, "bo")
    ana.goto(url)
    bo.goto(url)

    ana.fill("#id_body", article.body + "\n\nAna added this paragraph.")
    ana.click("input[name=_continue]")
    ana.locator(".messagelist .success").wait_for()

    bo_text = article.body + "\n\nBo wrote <this> instead."
    bo.fill("#id_body", bo_text)
    bo.click("input[name=_continue]")
    bo.get_by_text("Ana saved this article at").wait_for()
    conflict = bo.locator(".editor-conflict")
    conflict.locator(".diff-add", has_text="Ana added this paragraph.").wait_for()
    assert bo.input_value("#id_body") == bo_text
    _no_csp_violations(bo)
    screenshot(bo, "editor-conflict")
    conflict.screenshot(path=str(ARTIFACTS / "editor-conflict-diff.png"))
    assert "Bo wrote" not in Article.objects.get(pk=article.pk).body

    # Having read the diff, Bo saves deliberately and wins.
    bo.click("input[name=_continue]")
    bo.locator(".messagelist .success").wait_for()
    assert "Bo wrote <this> instead." in Article.objects.get(pk=article.pk).body
    ana.context.close()
    bo.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_summary_counter_follows_typing_at_desktop_and_phone_widths(
    start_web: Any, browser: Any
) -> None:
    _editor("counter", "Cora")
    article = make_article("counter-guide")
    web = start_web()
    page = _signed_in(browser, web.url, "counter")
    page.goto(f"{web.url}/admin/helpcenter/article/{article.pk}/change/")
    counter = page.locator("#id_summary-counter")
    counter.get_by_text(f"{len(article.summary)} characters of about 160").wait_for()
    page.fill("#id_summary", "x" * 170)
    counter.get_by_text("170 characters, 10 past what search results show").wait_for()
    assert "id_summary-counter" in (page.get_attribute("#id_summary", "aria-describedby") or "")
    # Each fix's summary has its own counter.
    page.locator("#id_fixes-0-summary-counter").wait_for()
    # Wide enough to read a whole title: far past the admin's stock 20em box.
    assert page.locator("#id_title").bounding_box()["width"] > 500  # type: ignore[index]
    page.locator(".field-summary").first.screenshot(path=str(ARTIFACTS / "editor-summary.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "editor-polish-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "editor-polish-375")
    _no_csp_violations(page)
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_preview_is_the_public_page_with_working_tabs(
    start_web: Any, browser: Any
) -> None:
    from django.core.management import call_command

    call_command("import_content", verbosity=0)
    _editor("writer", "Wren")
    article = Article.objects.get(slug="chatgpt-access-denied-1020")
    web = start_web()
    page = _signed_in(browser, web.url, "writer")
    page.goto(f"{web.url}/admin/helpcenter/article/{article.pk}/change/")
    page.fill("#id_title", "Unsaved title for the preview")

    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview the public page").click()
    preview = opened.value
    preview.wait_for_load_state()

    preview.get_by_role("heading", level=1, name="Unsaved title for the preview").wait_for()
    # The site's own CSS and script: tab sets switch, and the page looks like the site.
    fix = preview.locator("#fix-clear-site-cookies").locator("xpath=..")
    fix.locator(".tabbed-labels label", has_text="Firefox").click()
    firefox = fix.locator(".tabbed-block").nth(1)
    firefox.wait_for(state="visible")
    assert not fix.locator(".tabbed-block").first.is_visible()
    assert (
        preview.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).borderBottomStyle"
        )
        == "solid"
    )
    _no_csp_violations(preview)
    screenshot(preview, "editor-page-preview")
    article.refresh_from_db()
    assert article.title != "Unsaved title for the preview"
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_fixes_are_reordered_by_keyboard_and_by_dragging(start_web: Any, browser: Any) -> None:
    from django.core.management import call_command

    call_command("import_content", verbosity=0)
    _editor("writer", "Wren")
    article = Article.objects.get(slug="chatgpt-access-denied-1020")
    first, second, third = (fix.slug for fix in article.fixes.order_by("order")[:3])
    web = start_web()
    page = _signed_in(browser, web.url, "writer")
    page.goto(f"{web.url}/admin/helpcenter/article/{article.pk}/change/")
    fixes = page.locator("#fixes-group .inline-related:not(.empty-form)")

    # Keyboard: focus the first fix's "Move down" and press Enter.
    fixes.first.get_by_role("button", name="Move down").focus()
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="to position 2 of 7").wait_for()
    # Dragging: the (new) third fix, by its handle, onto the first (a tall window, so
    # both are on screen: the mouse drags only within the viewport).
    page.set_viewport_size({"width": 1400, "height": 6000})
    fixes.nth(0).scroll_into_view_if_needed()
    handle = fixes.nth(2).locator(".editor-drag-handle").bounding_box()
    target = fixes.nth(0).locator("h3").first.bounding_box()
    assert handle is not None and target is not None
    page.mouse.move(handle["x"] + 5, handle["y"] + 5)
    page.mouse.down()
    page.mouse.move(target["x"] + 20, target["y"] + 5, steps=10)
    page.mouse.up()
    page.get_by_role("status").filter(has_text="to position 1 of 7").wait_for()
    orders = [fixes.nth(i).locator("input[name$='-order']").input_value() for i in range(7)]
    assert orders == [str(n) for n in range(1, 8)]

    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    _no_csp_violations(page)
    saved = list(article.fixes.order_by("order").values_list("slug", flat=True)[:3])
    assert saved == [third, second, first]
    page.context.close()
