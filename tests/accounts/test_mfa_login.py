"""The second-factor stage of the login: nothing is signed in until a code is accepted."""

import threading
import time
from types import SimpleNamespace

import pytest
from allauth.account.internal import stagekit
from django.test import Client
from django.urls import reverse

from apps.siem.models import SecurityEvent
from tests.accounts.mfa_support import (
    TotpClock,
    give_backup_codes,
    give_totp,
    signed_in_user_id,
    submit_code,
    submit_password,
)
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def tessa(db):
    """Tessa, an end user who protects her account with an authenticator app."""
    return make_person("tessa@example.com")


def test_a_password_alone_only_leads_to_the_code_step(client, tessa):
    give_totp(tessa)

    response = submit_password(client, "tessa@example.com")

    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None
    assert client.get(reverse("account_overview")).status_code == 302


def test_a_user_without_a_device_is_signed_in_by_the_password(client, customer):
    response = submit_password(client, "casey@example.com")

    assert response.url == "/account/"
    assert signed_in_user_id(client) == str(customer.pk)


def test_a_valid_code_signs_in_with_a_new_session_key_and_a_verified_session(client, tessa):
    app = give_totp(tessa)
    submit_password(client, "tessa@example.com")
    key_before = client.session.session_key

    response = submit_code(client, app.now())

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(tessa.pk)
    assert client.session.session_key != key_before
    assert client.session.get("otp_device_id", "").startswith("otp_totp.totpdevice/")
    assert client.get(reverse("account_overview")).status_code == 200
    assert SecurityEvent.objects.filter(event_type="auth.mfa.challenge.success").exists()


def test_a_wrong_code_keeps_the_login_on_the_code_step(client, tessa):
    app = give_totp(tessa)
    submit_password(client, "tessa@example.com")
    wrong = f"{(int(app.now()) + 1) % 1_000_000:06d}"

    response = submit_code(client, wrong)

    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert SecurityEvent.objects.filter(event_type="auth.mfa.challenge.failure").exists()


def test_the_code_step_cannot_be_opened_without_a_password_first(client, tessa):
    app = give_totp(tessa)

    response = submit_code(client, app.now())

    assert response.url == reverse("account_login")
    assert signed_in_user_id(client) is None


def test_a_half_finished_login_expires_after_five_minutes(client, tessa, monkeypatch):
    app = give_totp(tessa)
    submit_password(client, "tessa@example.com")
    later = SimpleNamespace(time=lambda: time.time() + 5 * 60 + 1)

    # allauth's check of the stashed login's age reads the clock through this module.
    monkeypatch.setattr(stagekit, "time", later)
    response = submit_code(client, app.now())

    assert response.url == reverse("account_login")
    assert signed_in_user_id(client) is None


# --- Field case 1: TOTP replay ---------------------------------------------------------------


def test_a_code_used_to_log_in_is_refused_at_the_next_login_in_the_same_step(
    client, tessa, monkeypatch
):
    clock = TotpClock(monkeypatch)
    app = give_totp(tessa)
    code = app.at(clock.now)
    submit_password(client, "tessa@example.com")
    submit_code(client, code)
    client.post(reverse("account_logout"))

    submit_password(client, "tessa@example.com")
    clock.advance(5)
    response = submit_code(client, code)

    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_a_code_from_a_step_before_the_last_accepted_one_is_refused(client, tessa, monkeypatch):
    clock = TotpClock(monkeypatch)
    app = give_totp(tessa)
    earlier_code = app.at(clock.now)
    later_code = app.at(clock.now + 30)
    clock.advance(30)
    submit_password(client, "tessa@example.com")
    submit_code(client, later_code)
    client.post(reverse("account_logout"))

    # Still inside the one-step tolerance of the earlier code, but older than the last use.
    submit_password(client, "tessa@example.com")
    response = submit_code(client, earlier_code)

    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def _race(submit_from_each_client):
    """Run one submission per client at the same moment; return the responses."""
    barrier = threading.Barrier(len(submit_from_each_client))
    responses = [None] * len(submit_from_each_client)

    def run(index, submit):
        from django.db import connection

        try:
            barrier.wait()
            responses[index] = submit()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, submit))
        for index, submit in enumerate(submit_from_each_client)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses


@pytest.mark.django_db(transaction=True)
def test_one_totp_code_sent_from_two_browsers_at_once_creates_one_session():
    tessa = make_person("tessa@example.com")
    app = give_totp(tessa)
    browsers = [Client(), Client()]
    for browser in browsers:
        submit_password(browser, "tessa@example.com")
    code = app.now()

    _race([lambda b=browser: submit_code(b, code) for browser in browsers])

    signed_in = [b for b in browsers if signed_in_user_id(b) == str(tessa.pk)]
    assert len(signed_in) == 1


@pytest.mark.django_db(transaction=True)
def test_one_backup_code_sent_from_two_browsers_at_once_creates_one_session():
    tessa = make_person("tessa@example.com")
    give_totp(tessa)
    code = give_backup_codes(tessa)[0]
    browsers = [Client(), Client()]
    for browser in browsers:
        submit_password(browser, "tessa@example.com")

    _race([lambda b=browser: submit_code(b, code) for browser in browsers])

    signed_in = [b for b in browsers if signed_in_user_id(b) == str(tessa.pk)]
    assert len(signed_in) == 1
