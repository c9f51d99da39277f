"""Casey edits her encrypted details in a real headless Chromium, after confirming her password."""

import pytest
from django.test import Client

from apps.accounts.models import Profile
from tests.support import CHROMIUM_ARGS, STRONG_PASSWORD, csp_violations, require_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_casey_confirms_her_password_then_saves_her_details(live_server, customer):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    # Signed in, but without a recent password: as a session left open since yesterday.
    signed_in = Client()
    signed_in.force_login(customer)
    session_cookie = signed_in.cookies["sessionid"].value

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            context.add_cookies(
                [{"name": "sessionid", "value": session_cookie, "url": live_server.url}]
            )
            page = context.new_page()
            violations = csp_violations(page)
            page.goto(f"{live_server.url}/account/")
            page.get_by_test_id("profile-link").click()

            page.wait_for_url("**/accounts/reauthenticate/**")
            assert "Personal details" not in page.content()
            page.locator("input[name=password]").fill(STRONG_PASSWORD)
            page.locator("input[name=password]").press("Enter")

            page.wait_for_url(f"{live_server.url}/account/profile/")
            page.locator("input[name=first_name]").fill("Casey")
            page.locator("input[name=phone]").fill("+44 20 7946 0321")
            page.get_by_test_id("save-profile").click()
            page.wait_for_url(f"{live_server.url}/account/profile/")
            assert "Your details were saved." in page.content()
            assert violations == [], violations
        finally:
            browser.close()

    profile = Profile.objects.get(user=customer)
    assert (profile.first_name, profile.phone) == ("Casey", "+44 20 7946 0321")
