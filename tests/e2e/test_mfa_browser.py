"""Second factor end to end, in a real headless Chromium against the running portal.

Mia enrols an authenticator app from the security page the way a person would: an independent
TOTP implementation (pyotp) reads the otpauth:// link the page shows. She then signs in with a
code from it, signs in with a backup code, and sees the same backup code refused.
"""

import time

import pyotp
import pytest

from tests.conftest import make_person
from tests.support import CHROMIUM_ARGS, STRONG_PASSWORD, csp_violations, require_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STEP_TIMEOUT_MS = 15_000


@pytest.fixture
def page(live_server):
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        tab = context.new_page()
        violations = csp_violations(tab)
        yield tab
        context.close()
        browser.close()
        assert violations == [], violations


def _sign_in_with_password(page):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "mia@example.com")
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.locator("form button[type=submit]").first.click()


def _sign_out(page):
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/**")


def _enter_code(page, code):
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", code)
    page.get_by_test_id("mfa-submit").click()


@pytest.fixture
def mia(transactional_db):
    """Mia, an end user about to turn on a second factor. Created before the browser starts:
    Django refuses database calls from the thread where Playwright runs its event loop."""
    return make_person("mia@example.com")


def test_enrol_sign_in_with_totp_then_with_a_backup_code_that_works_once(mia, page):
    _sign_in_with_password(page)
    page.wait_for_url("**/account/")
    page.goto("/account/security/")
    page.get_by_role("link", name="Set up").click()
    app = pyotp.parse_uri(page.get_by_test_id("totp-uri").inner_text())
    assert page.get_by_test_id("totp-secret").inner_text() == app.secret
    page.fill("input[name=code]", app.now())
    page.get_by_test_id("totp-confirm").click()
    backup_codes = page.get_by_test_id("backup-codes").locator("code").all_inner_texts()
    assert len(backup_codes) == 10
    _sign_out(page)

    # The code of the next step, as the app shows it a moment later: the current one was
    # spent on enrolment and is refused as a replay.
    _sign_in_with_password(page)
    _enter_code(page, app.at(time.time() + 30))
    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == "mia@example.com"
    _sign_out(page)

    _sign_in_with_password(page)
    _enter_code(page, backup_codes[0])
    page.wait_for_url("**/account/")
    assert "9 remain" in page.locator(".messages").inner_text()
    _sign_out(page)

    _sign_in_with_password(page)
    _enter_code(page, backup_codes[0])
    error = page.locator("form[data-testid=mfa-authenticate-form]")
    assert "not valid, or it was already used" in error.inner_text()
    assert page.url.endswith("/accounts/2fa/authenticate/")
