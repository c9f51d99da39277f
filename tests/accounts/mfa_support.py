"""Helpers for second-factor tests: give people devices, read codes the way an app would."""

import pyotp
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.mfa import services
from tests.support import STRONG_PASSWORD


def give_totp(user) -> pyotp.TOTP:
    """Enrol an authenticator for the user and return an independent app reading the same key."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return pyotp.parse_uri(device.config_url)


def give_backup_codes(user) -> list[str]:
    return services.regenerate_backup_codes(user=user)


def submit_password(client, email, password=STRONG_PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def submit_code(client, code, **extra):
    return client.post(reverse("mfa_authenticate"), {"code": code}, **extra)


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


class TotpClock:
    """The time django-otp's TOTP check reads, moved by the test and by nothing else.

    Only the TOTP module's view of the clock is replaced, so sessions and login timeouts keep
    real time while a test steps through 30-second windows.
    """

    def __init__(self, monkeypatch, start=None):
        import time

        import django_otp.plugins.otp_totp.models as totp_models

        self.now = float(start if start is not None else time.time())
        monkeypatch.setattr(totp_models, "time", self)

    def time(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds
