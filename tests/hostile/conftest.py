"""The browser fixtures of tests/browser/, for the XSS test here."""

from __future__ import annotations

from tests.browser.conftest import browser, page, playwright_instance

__all__ = ["browser", "page", "playwright_instance"]
