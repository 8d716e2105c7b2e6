"""An editor's afternoon: a new guide written with the toolbar alone, previewed, shared, published.

The editor never types Markdown's special characters: tabs, the tip box, the
image and the link to a fix come from the toolbar's dialogs, in plain words.
Served by gunicorn under the site's CSP, in Debian's Chromium.
"""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from helpcenter.models import Article
from tests.browser.fixtures import ARTIFACTS, screenshot
from tests.browser.test_accessibility import AXE, WATCH_CSP
from tests.conftest import skip_or_fail
from tests.helpcenter.admin_forms import make_editor
from tests.helpcenter.factories import make_article

PASSWORD = "a-long-test-password"
# What Markdown reads as syntax: none of it may appear in what the editor types.
SPECIAL = re.compile(r"[#=!\[\]()`{}*?_<>|~]")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _screenshot_png(path: Path) -> Path:
    """A stand-in screenshot: a window with a title bar, as an editor would capture one."""
    image = Image.new("RGB", (900, 500), (245, 245, 245))
    image.paste((40, 90, 200), (0, 0, 900, 60))
    image.paste((220, 60, 60), (350, 200, 550, 300))
    out = io.BytesIO()
    image.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


class Editor:
    """The editor's hands: every string typed is checked to be free of Markdown syntax."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def type_into(self, locator: Any, text: str) -> None:
        assert not SPECIAL.search(text), f"the editor typed Markdown syntax: {text!r}"
        locator.fill(text)

    def type_at_end(self, locator: Any, text: str) -> None:
        assert not SPECIAL.search(text), f"the editor typed Markdown syntax: {text!r}"
        locator.press("Control+End")
        locator.press_sequentially(text)

    def dialog(self) -> Any:
        dialog = self.page.locator("dialog.editor-dialog[open]")
        dialog.wait_for()
        return dialog

    def closed(self) -> None:
        self.page.locator("dialog.editor-dialog").wait_for(state="detached")


def _sign_in(browser: Any, base: str, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    return page


def _check_the_four(page: Any, fix_url: str, image_url: str) -> None:
    """The tab set switches, the tip box is styled, the image loads, the link leads to the fix."""
    article = page.locator("article").first
    tabs = article.locator(".tabbed-set")
    tabs.get_by_text("Open Chrome settings and clear the cookies.").wait_for()
    assert not tabs.get_by_text("Open Firefox settings").is_visible()
    tabs.locator("label", has_text="Firefox").click()
    tabs.get_by_text("Open Firefox settings and clear the cookies.").wait_for(state="visible")
    assert not tabs.get_by_text("Open Chrome settings").is_visible()
    assert [t.strip() for t in tabs.locator(".tabbed-labels label").all_inner_texts()] == [
        "Chrome", "Firefox", "Safari", "Edge"
    ]  # fmt: skip

    tip = article.locator(".admonition.tip")
    assert tip.locator(".admonition-title").inner_text().strip() == "Before you start"
    assert "Sign out of every other tab first." in tip.inner_text()
    # Styled by the site's stylesheet: a coloured bar on the left, not a bare paragraph.
    assert tip.evaluate("el => parseFloat(getComputedStyle(el).borderLeftWidth)") > 0

    image = article.locator("img[alt='The Clear browsing data window with Cookies ticked']")
    assert image.get_attribute("src") == image_url
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )

    link = article.get_by_role("link", name="clear the cookies")
    assert link.get_attribute("href") == fix_url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_editor_writes_previews_shares_and_publishes_a_guide_without_markdown(
    start_web: Any, browser: Any, tmp_path: Path
) -> None:
    make_editor(password=PASSWORD)
    target = make_article("cookies-guide")
    fix = target.fixes.get(slug="step-2")
    fix.title = "Clear the site cookies"
    fix.save()
    web = start_web(MEDIA_ROOT=str(tmp_path / "media"))
    page = _sign_in(browser, web.url)
    hands = Editor(page)
    page.goto(f"{web.url}/admin/helpcenter/article/add/")

    toolbar = page.get_by_role("group", name="Insert into Body")
    for name in ("Heading", "Browser tabs", "Tip or warning", "Collapsible", "Link", "Image"):
        assert toolbar.get_by_role("button", name=name).get_attribute("aria-keyshortcuts")
    screenshot(page, "editor-toolbar-1280")

    hands.type_into(page.locator("#id_title"), "Signed out on every visit")
    hands.type_into(
        page.locator("#id_summary"), "What to do when the site signs you out each time you come."
    )
    body = page.locator("#id_body")
    hands.type_into(body, "The site forgets you because your browser throws its cookies away.")
    body.press("Control+End")

    # A tab per browser, from the toolbar button.
    toolbar.get_by_role("button", name="Browser tabs").click()
    dialog = hands.dialog()
    for browser_name in ("Chrome", "Firefox", "Safari", "Edge"):
        hands.type_into(
            dialog.get_by_label(f"Steps in {browser_name}"),
            f"Open {browser_name} settings and clear the cookies.",
        )
    page.screenshot(path=str(ARTIFACTS / "editor-dialog-tabs-1280.png"))
    dialog.get_by_role("button", name="Add tabs").click()
    hands.closed()

    # The tip box from the keyboard: the shortcut, then the dialog's fields.
    body.press("Control+End")
    body.press("Control+Alt+b")
    dialog = hands.dialog()
    dialog.get_by_label("Kind").select_option("tip")
    hands.type_into(dialog.get_by_label("Title (optional)"), "Before you start")
    hands.type_into(dialog.get_by_label("Text"), "Sign out of every other tab first.")
    dialog.get_by_label("Text").press("Tab")
    page.keyboard.press("Enter")  # the focused "Add box" button
    hands.closed()

    # The screenshot, uploaded, with its description.
    body.press("Control+End")
    toolbar.get_by_role("button", name="Image").click()
    dialog = hands.dialog()
    dialog.get_by_label("Image file (PNG, JPEG, WebP or GIF)").set_input_files(
        str(_screenshot_png(tmp_path / "clear-data.png"))
    )
    alt = dialog.get_by_label("What it shows (for readers who cannot see it)")
    dialog.get_by_role("button", name="Upload and add").click()
    # No description, no upload: the browser holds the dialog on the empty field.
    assert alt.evaluate("el => el.matches(':invalid') && document.activeElement === el")
    assert dialog.is_visible()
    hands.type_into(
        alt,
        "The Clear browsing data window with Cookies ticked",
    )
    dialog.get_by_role("button", name="Upload and add").click()
    hands.closed()

    # A link to the fix, found by searching for its title.
    hands.type_at_end(body, "\n\nIf that is not enough, ")
    toolbar.get_by_role("button", name="Link").click()
    dialog = hands.dialog()
    hands.type_into(dialog.get_by_label("Search articles and fixes"), "site cookies")
    dialog.get_by_role("status").get_by_text("1 found").wait_for()
    dialog.get_by_label("Fix: Clear the site cookies (in Guide cookies-guide)").check()
    hands.type_into(dialog.get_by_label("Link text (optional: the title)"), "clear the cookies")
    dialog.get_by_role("button", name="Add link").click()
    hands.closed()

    markdown = body.input_value()
    assert '=== "Safari"' in markdown and '!!! tip "Before you start"' in markdown
    image_url = re.search(r"\(/media/images/[0-9a-f]{32}\.png\)", markdown)
    assert image_url is not None
    image_url_text = image_url.group(0)[1:-1]
    fix_url = "/articles/cookies-guide/fix/step-2/"
    assert f"[clear the cookies]({fix_url})" in markdown
    # The live preview beside the text shows it already.
    page.locator("#id_body-preview .tabbed-set").wait_for()
    page.locator("#id_body-preview img").wait_for()

    # The whole public page, unsaved, in a new tab.
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview the public page").click()
    preview = opened.value
    preview.wait_for_load_state()
    _check_the_four(preview, fix_url, image_url_text)
    assert preview.evaluate("window.__cspViolations") == []
    preview.close()

    # Saved as a draft (the default status), then shared by its preview link.
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    article = Article.objects.get(slug="signed-out-on-every-visit")
    assert article.status == "draft"
    public_url = f"{web.url}/articles/signed-out-on-every-visit/"
    assert _status(public_url) == 404
    preview_link = page.locator("a.editor-copy-link").get_attribute("href")
    assert preview_link and "/preview/" in preview_link
    reader = browser.new_context(viewport={"width": 1280, "height": 900})
    reader.add_init_script(WATCH_CSP)
    shared = reader.new_page()
    shared.goto(preview_link)
    _check_the_four(shared, fix_url, image_url_text)
    assert shared.evaluate("window.__cspViolations") == []

    # Published.
    page.select_option("#id_status", "published")
    page.locator(".field-published_at .datetimeshortcuts a", has_text="Today").click()
    page.locator(".field-published_at .datetimeshortcuts a", has_text="Now").click()
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    assert page.evaluate("window.__cspViolations") == []

    shared.goto(public_url)
    _check_the_four(shared, fix_url, image_url_text)
    shared.get_by_role("link", name="clear the cookies").click()
    shared.wait_for_url(f"{web.url}{fix_url}")
    assert shared.evaluate("window.__cspViolations") == []
    reader.close()
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_toolbar_is_reachable_by_keyboard_and_fits_a_phone(
    start_web: Any, browser: Any
) -> None:
    make_editor(password=PASSWORD)
    web = start_web()
    page = _sign_in(browser, web.url, width=375)
    page.goto(f"{web.url}/admin/helpcenter/article/add/")
    body = page.locator("#id_body")
    body.focus()
    page.keyboard.press("Shift+Tab")  # from the text back to the toolbar's last button
    assert page.evaluate("document.activeElement.textContent") == "Image"
    toolbar = page.get_by_role("group", name="Insert into Body")
    box = toolbar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    screenshot(page, "editor-toolbar-375")

    # A heading from the keyboard, its id made from the text and kept unique.
    body.fill("Intro.\n\n## Clear the cookies {#clear-the-cookies}\n")
    body.press("Control+End")
    body.press("Control+Alt+h")
    dialog = page.locator("dialog.editor-dialog[open]")
    dialog.get_by_label("Heading text").fill("Clear the cookies")
    assert dialog.get_by_label("Link to it as").input_value() == "#clear-the-cookies-2"
    page.screenshot(path=str(ARTIFACTS / "editor-dialog-heading-375.png"))
    page.keyboard.press("Enter")
    page.locator("dialog.editor-dialog").wait_for(state="detached")
    assert body.input_value().endswith("## Clear the cookies {#clear-the-cookies-2}\n\n")

    # A collapsible block, from its button reached by keyboard.
    page.get_by_role("button", name="Collapsible").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog.editor-dialog[open]")
    dialog.get_by_label("What readers click to open it").fill("Why this happens")
    dialog.get_by_label("Text inside").fill("Your browser deletes cookies when it closes.")
    _axe_clean(page, "dialog.editor-dialog")
    dialog.get_by_role("button", name="Add block").click()
    page.locator("dialog.editor-dialog").wait_for(state="detached")
    assert body.input_value().endswith(
        '??? note "Why this happens"\n\n    Your browser deletes cookies when it closes.\n\n'
    )
    page.locator("#id_body-preview details summary", has_text="Why this happens").wait_for()
    _axe_clean(page, ".editor-toolbar")
    assert page.evaluate("window.__cspViolations") == []
    page.context.close()


def _axe_clean(page: Any, selector: str) -> None:
    """No axe-core violations inside ``selector`` (the admin around it is Django's own)."""
    if not AXE.exists():
        skip_or_fail(f"axe-core is not installed: run `npm install --no-save axe-core` at {AXE}")
    page.evaluate(AXE.read_text() + "\n;true")
    found = page.evaluate(
        "(selector) => axe.run({include: [[selector]]}, {runOnly: ['wcag2a', 'wcag2aa',"
        " 'wcag21a', 'wcag21aa', 'best-practice']}).then(r => r.violations.map(v =>"
        " ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))",
        selector,
    )
    assert found == [], found
