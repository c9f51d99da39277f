"""Password logins at the token endpoint share the web login's counters (cases 9 and 10).

Casey is the account owner; Mallory guesses passwords from one real address, through our
proxy, writing whatever X-Forwarded-For she likes.
"""

import random

import pytest
from django.test import Client

from tests.api.conftest import password_login
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

MALLORY = "203.0.113.66"
OUR_PROXY = "10.0.0.2"
SOMEONE_ELSE = "198.51.100.7"


def web_login(email, password, **headers):
    browser = Client()
    response = browser.post("/accounts/login/", {"login": email, "password": password}, **headers)
    return browser, response


def web_login_succeeded(browser) -> bool:
    return "_auth_user_id" in browser.session


def through_our_proxy(client_address: str) -> dict:
    """What our one trusted proxy sends: a client-written list, then the address it saw."""
    forged = ", ".join(
        f"{random.randint(1, 223)}.{random.randint(0, 255)}.0.{random.randint(1, 254)}"
        for _ in range(random.randint(1, 3))
    )
    return {"REMOTE_ADDR": OUR_PROXY, "HTTP_X_FORWARDED_FOR": f"{forged}, {client_address}"}


def test_forged_forwarded_headers_do_not_escape_the_per_address_lock(settings, customer):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    # Thirty guesses at thirty different accounts, alternating web and API, each with a fresh
    # random header: only the address our proxy appended stays the same.
    for attempt in range(30):
        email = f"guess{attempt}@example.com"
        if attempt % 2:
            password_login(email, "wrong guess", **through_our_proxy(MALLORY))
        else:
            web_login(email, "wrong guess", **through_our_proxy(MALLORY))

    api = password_login(customer.email, **through_our_proxy(MALLORY))
    browser, _ = web_login(customer.email, STRONG_PASSWORD, **through_our_proxy(MALLORY))
    assert api.status_code == 429
    assert api.json()["code"] == "locked"
    assert not web_login_succeeded(browser)

    # The lock is on Mallory's address, not on everyone behind the proxy.
    assert password_login(customer.email, **through_our_proxy(SOMEONE_ELSE)).status_code == 200


def test_without_a_trusted_proxy_the_forwarded_header_is_never_the_key(settings, customer):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0

    for attempt in range(30):
        headers = {"REMOTE_ADDR": MALLORY, "HTTP_X_FORWARDED_FOR": f"192.0.2.{attempt + 1}"}
        password_login(f"guess{attempt}@example.com", "wrong guess", **headers)

    locked = password_login(customer.email, REMOTE_ADDR=MALLORY, HTTP_X_FORWARDED_FOR=SOMEONE_ELSE)
    assert locked.status_code == 429


def test_failed_api_logins_lock_the_account_for_the_web_login_too(customer):
    for _ in range(10):
        assert password_login(customer.email, "wrong guess").status_code in {401, 429}

    api = password_login(customer.email)
    browser, page = web_login(customer.email, STRONG_PASSWORD)

    assert api.status_code == 429
    assert not web_login_succeeded(browser)
    assert b"Too many failed login attempts" in page.content


def test_the_account_lock_holds_however_the_address_is_written(customer):
    for _ in range(5):
        password_login(customer.email, "wrong guess")

    for spelling in ["CASEY@example.com", " Casey@Example.com "]:
        assert password_login(spelling).status_code == 429


def test_a_wrong_api_password_is_one_failure_event_naming_the_account(customer):
    from apps.siem.models import SecurityEvent

    assert password_login("Casey@Example.com", "not the password").status_code == 401

    (failure,) = SecurityEvent.objects.filter(event_type="auth.login.failure")
    assert failure.details == {"identifier": f"user:{customer.pk}", "channel": "api"}


def test_a_locked_api_refusal_names_the_account_it_was_aimed_at(customer):
    from apps.siem.models import SecurityEvent

    statuses = [password_login("casey@example.com", "wrong").status_code for _ in range(6)]

    assert statuses[-1] == 429
    locked = SecurityEvent.objects.filter(details__reason="locked").latest("id")
    assert locked.details["identifier"] == f"user:{customer.pk}"
    assert SecurityEvent.objects.filter(event_type="auth.login.failure").count() == 6
