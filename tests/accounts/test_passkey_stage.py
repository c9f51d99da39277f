"""The passkey views of the login stage serve only a login that has passed its password."""

import pytest
from django.urls import reverse

from tests.accounts.mfa_support import give_totp, submit_password

pytestmark = pytest.mark.django_db


def test_without_a_password_step_the_passkey_ceremony_does_not_start(client, customer):
    response = client.post(
        reverse("mfa_passkey_begin"), data="{}", content_type="application/json"
    )

    assert response.status_code in (401, 403)


def test_after_the_password_step_the_ceremony_starts_for_that_user(client, customer):
    give_totp(customer)
    submit_password(client, "casey@example.com")

    response = client.post(
        reverse("mfa_passkey_begin"), data="{}", content_type="application/json"
    )

    assert response.status_code == 200
    assert "challenge" in response.json()


def test_passwordless_sign_in_through_the_package_views_is_off(client, customer):
    response = client.post(
        reverse("otp_webauthn:credential-authentication-begin"),
        data="{}",
        content_type="application/json",
    )

    assert response.status_code in (401, 403)
