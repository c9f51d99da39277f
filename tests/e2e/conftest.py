"""A real headless Chromium, driven by Playwright, for tests of the pages as people use them."""

import os

import pytest

from tests.support import CHROMIUM_ARGS, csp_violations, require_chromium

# Playwright's synchronous API keeps an event loop running in the test thread, which makes
# Django believe database calls from the test body are made from async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    """A browser per test. Playwright's synchronous API allows one running instance per thread,
    and some tests start their own (to configure the browser before launch), so a browser kept
    open for the whole session would make those fail."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A tab that fails its test if anything on a page broke the Content-Security-Policy."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    tab = context.new_page()
    violations = csp_violations(tab)
    yield tab
    context.close()
    assert violations == [], violations
