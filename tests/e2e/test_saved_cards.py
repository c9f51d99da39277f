"""The saved-cards section of the account page, in a real headless Chromium."""

import pytest
from django.test import Client

from apps.pci import services
from apps.pci.access import Caller
from apps.pci.models import CardToken
from tests.pci import cards
from tests.support import CHROMIUM_ARGS, csp_violations, require_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_user_sees_their_card_masked_and_removes_it(live_server, customer):
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    services.tokenize_card(
        pan=cards.MASTERCARD_2_SERIES, expiry_month=3, expiry_year=2031, owner=customer,
        actor=Caller.for_user(customer),
    )  # fmt: skip
    signed_in = Client()
    signed_in.force_login(customer)
    session_cookie = signed_in.cookies["sessionid"].value

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.add_cookies(
                [{"name": "sessionid", "value": session_cookie, "url": live_server.url}]
            )
            page = context.new_page()
            violations = csp_violations(page)
            page.goto(f"{live_server.url}/account/")

            saved = page.get_by_test_id("saved-card")
            assert saved.inner_text() == "Mastercard •••• 3222"
            assert cards.MASTERCARD_2_SERIES not in page.content()

            page.get_by_role("button", name="Remove").click()
            page.wait_for_url(f"{live_server.url}/account/")
            assert page.get_by_test_id("saved-cards").inner_text().count("No saved cards") == 1
            assert violations == [], violations
        finally:
            browser.close()

    assert not CardToken.objects.exists()
