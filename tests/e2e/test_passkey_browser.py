"""A passkey as the second step of a login, in headless Chromium with a virtual authenticator.

Chromium's DevTools protocol provides a software authenticator that answers the page's WebAuthn
calls as a platform passkey would, with user verification; django-otp-webauthn checks its
signatures exactly as it would a phone's or a security key's.
"""

from importlib import import_module

import pytest
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from apps.siem.models import SecurityEvent
from tests.conftest import make_person
from tests.support import CHROMIUM_ARGS, STRONG_PASSWORD, csp_violations, require_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STEP_TIMEOUT_MS = 15_000


@pytest.fixture
def pia(transactional_db):
    """Pia, who wants a passkey instead of an authenticator app. Created before the browser
    starts: Django refuses database calls from the thread of Playwright's event loop."""
    return make_person("pia@example.com")


@pytest.fixture
def page(live_server, settings):
    # WebAuthn accepts "localhost" but no IP address as the site's identity.
    url = live_server.url.replace("127.0.0.1", "localhost")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [url]
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=url)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        tab = context.new_page()
        devtools = context.new_cdp_session(tab)
        devtools.send("WebAuthn.enable")
        devtools.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )
        violations = csp_violations(tab)
        yield tab
        context.close()
        browser.close()
        assert violations == [], violations


def _sign_in_with_password(page):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "pia@example.com")
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.locator("form button[type=submit]").first.click()


def _server_session_of(page):
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])


def _register_a_passkey_then_sign_out(page):
    _sign_in_with_password(page)
    page.wait_for_url("**/account/")
    page.goto("/account/security/")
    page.get_by_test_id("passkey-register").click()
    # A locator assertion, not wait_for_function: the page's CSP forbids evaluating strings.
    expect(page.locator("#passkey-register-status-message")).not_to_be_empty()
    page.reload()
    assert "No passkeys." not in page.get_by_test_id("passkeys").inner_text()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/**")


def test_a_registered_passkey_completes_the_login_after_the_password(pia, page):
    _register_a_passkey_then_sign_out(page)

    _sign_in_with_password(page)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_test_id("passkey-verify").click()

    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == "pia@example.com"


def test_a_passkey_alone_signs_in_as_both_factors(pia, page):
    _register_a_passkey_then_sign_out(page)

    page.goto("/accounts/login/")
    page.get_by_test_id("passkey-sign-in").click()

    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == "pia@example.com"
    login = SecurityEvent.objects.filter(event_type="auth.login.success").latest("id")
    assert login.details["method"] == "passkey"
    # The passkey verified its user, so the session counts as having passed the second factor
    # with that passkey, as django-otp records it.
    session = _server_session_of(page)
    passkey = WebAuthnCredential.objects.get(user=pia)
    assert session[DEVICE_ID_SESSION_KEY] == passkey.persistent_id


def test_a_passkey_of_a_locked_account_signs_nobody_in(pia, page):
    _register_a_passkey_then_sign_out(page)
    pia.is_active = False
    pia.save(update_fields=["is_active"])

    page.goto("/accounts/login/")
    page.get_by_test_id("passkey-sign-in").click()
    # A locator assertion, not wait_for_function: the page's CSP forbids evaluating strings.
    expect(page.locator("#passkey-verification-status-message")).not_to_be_empty()

    assert "/accounts/login/" in page.url
    failure = SecurityEvent.objects.filter(event_type="auth.login.failure").latest("id")
    assert failure.details == {"method": "passkey", "reason": "UserDisabled"}
