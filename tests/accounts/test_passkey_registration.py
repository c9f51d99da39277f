"""Adding a passkey needs a fresh proof: a passkey alone signs its holder in, both factors.

Whoever holds a signed-in session (a borrowed laptop, a stolen session cookie) must not be able
to leave a passkey of their own behind: it would sign them in again after the owner changed the
password, and skip the second factor the owner set up.
"""

import time

import pytest
from django.urls import reverse

from tests.accounts.mfa_support import give_totp, submit_code, submit_password
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

BEGIN = "otp_webauthn:credential-registration-begin"
COMPLETE = "otp_webauthn:credential-registration-complete"
AN_HOUR = 3600


@pytest.fixture
def tessa(db):
    """Tessa, who signs in with a password and an authenticator app."""
    user = make_person("tessa@example.com")
    user.app = give_totp(user)
    return user


def _age_every_proof(client, seconds):
    """Move this session's record of how it proved itself back in time, as if it sat idle."""
    session = client.session
    session["account_authentication_methods"] = [
        {**record, "at": record["at"] - seconds}
        for record in session["account_authentication_methods"]
    ]
    session.save()


def _begin(client):
    return client.post(reverse(BEGIN), data="{}", content_type="application/json")


def test_a_session_whose_second_factor_is_an_hour_old_cannot_start_adding_a_passkey(client, tessa):
    submit_password(client, "tessa@example.com")
    submit_code(client, tessa.app.now())
    _age_every_proof(client, AN_HOUR)

    response = _begin(client)

    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_required"
    assert "otp_webauthn_register_state" not in client.session


def test_a_session_whose_second_factor_is_an_hour_old_cannot_finish_adding_a_passkey(
    client, tessa
):
    submit_password(client, "tessa@example.com")
    submit_code(client, tessa.app.now())
    _begin(client)
    _age_every_proof(client, AN_HOUR)

    response = client.post(reverse(COMPLETE), data="{}", content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_required"


def test_a_fresh_password_is_not_enough_when_the_account_has_a_second_factor(client, tessa):
    submit_password(client, "tessa@example.com")
    submit_code(client, tessa.app.now())
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time()},
        {"method": "mfa", "at": time.time() - AN_HOUR},
    ]
    session.save()

    assert _begin(client).status_code == 403


def test_a_second_factor_given_again_allows_adding_a_passkey(client, tessa):
    submit_password(client, "tessa@example.com")
    submit_code(client, tessa.app.now())
    _age_every_proof(client, AN_HOUR)
    next_step_code = tessa.app.at(time.time() + 30)  # the login spent the current step

    client.post(reverse("mfa_reauthenticate"), {"code": next_step_code})
    response = _begin(client)

    assert response.status_code == 200
    assert "challenge" in response.json()


def test_without_a_second_factor_an_hour_old_password_cannot_add_a_passkey(client, customer):
    submit_password(client, "casey@example.com")
    _age_every_proof(client, AN_HOUR)

    assert _begin(client).status_code == 403


def test_without_a_second_factor_a_fresh_password_may_add_a_first_passkey(client, customer):
    submit_password(client, "casey@example.com")

    response = _begin(client)

    assert response.status_code == 200
    assert "challenge" in response.json()


def test_the_security_page_offers_the_proof_before_the_passkey_button(client, tessa):
    submit_password(client, "tessa@example.com")
    submit_code(client, tessa.app.now())
    _age_every_proof(client, AN_HOUR)

    page = client.get(reverse("mfa_security")).content.decode()

    assert 'data-testid="passkey-register"' not in page
    assert f"{reverse('mfa_reauthenticate')}?next=" in page
