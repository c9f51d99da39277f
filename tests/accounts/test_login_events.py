"""Sign-in activity is recorded as security events, with the address we can trust."""

import pytest
from django.urls import reverse

from apps.siem.models import SecurityEvent
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def failed_login(client, **headers):
    return client.post(
        reverse("account_login"),
        {"login": "Nobody@Example.com", "password": "wrong password 123"},
        **headers,
    )


def test_a_failed_login_without_a_proxy_records_the_peer_address(client, settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0

    failed_login(client, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="6.6.6.6")

    failure = SecurityEvent.objects.get(event_type="auth.login.failure")
    assert failure.ip == "198.51.100.7"
    assert failure.details == {"identifier": "nobody@example.com"}
    assert failure.outcome == "failure"


def test_a_failed_login_behind_a_proxy_records_the_address_the_proxy_saw(client, settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    failed_login(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.50")

    failure = SecurityEvent.objects.get(event_type="auth.login.failure")
    assert failure.ip == "203.0.113.50"
    assert "6.6.6.6" not in str(failure.details)


def test_a_successful_login_and_logout_are_recorded(client, customer):
    client.post(reverse("account_login"), {"login": customer.email, "password": STRONG_PASSWORD})
    client.post(reverse("account_logout"))

    recorded = list(
        SecurityEvent.objects.order_by("id").values_list("event_type", "actor", "outcome")
    )
    assert recorded == [
        ("auth.login.success", f"user:{customer.pk}", "success"),
        ("auth.logout", f"user:{customer.pk}", "success"),
    ]


def test_a_password_change_is_recorded_in_the_same_request(client, customer):
    client.force_login(customer)

    client.post(
        reverse("account_change_password"),
        {"oldpassword": STRONG_PASSWORD, "password1": "a brand new passphrase 7",
         "password2": "a brand new passphrase 7"},
    )  # fmt: skip

    assert SecurityEvent.objects.filter(
        event_type="auth.password.changed", actor=f"user:{customer.pk}"
    ).exists()


def test_a_sign_up_is_recorded(client):
    client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )

    assert SecurityEvent.objects.filter(event_type="auth.signup").count() == 1
