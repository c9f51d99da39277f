"""A newcomer's first visit, in a real browser: sign up, confirm by mail, log in, log out."""

import re

import pytest

from apps.siem.models import SecurityEvent
from tests.conftest import message_text
from tests.support import STRONG_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def test_a_newcomer_signs_up_confirms_logs_in_and_out(page, live_server, celery_worker, mailbox):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("Dana@Example.com")
    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("Password (again)").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")

    # The verification mail is sent by the worker process, not by the web request.
    mail = mailbox.wait_for("dana@example.com")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message_text(mail)).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_url("**/accounts/login/")
    page.get_by_label("Email").fill("DANA@example.com")
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.wait_for_url("**/account/")
    assert page.get_by_test_id("account-email").inner_text() == "dana@example.com"
    assert page.get_by_text("Verified", exact=True).is_visible()

    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")
    page.goto(f"{live_server.url}/account/")
    assert "/accounts/login/" in page.url

    recorded = set(SecurityEvent.objects.values_list("event_type", flat=True))
    assert {"auth.signup", "auth.email.confirmed", "auth.login.success",
            "auth.logout"} <= recorded  # fmt: skip


def test_the_login_error_does_not_say_whether_the_account_exists(page, live_server, customer):
    def error_for(address):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(address)
        page.get_by_label("Password").fill("a wrong password 123")
        page.get_by_role("button", name="Sign in", exact=True).click()
        return page.get_by_role("alert").inner_text()

    assert error_for(customer.email) == error_for("nobody.here@example.com")
