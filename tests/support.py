"""Helpers shared by the test suite: required services, the mail folder, named people."""

import os
import shutil

import pytest

# CI sets these so that a missing browser or service fails the run instead of skipping.
REQUIRE_BROWSER = "PORTAL_REQUIRE_BROWSER"
REQUIRE_SERVICES = "PORTAL_REQUIRE_SERVICES"

CHROMIUM_PATH = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def skip_or_fail(reason: str, required_by: str) -> None:
    """Skip with a reason, unless the environment says this must not be skipped."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1 forbids skipping)")
    pytest.skip(reason)


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM_PATH) or shutil.which(CHROMIUM_PATH)):
        skip_or_fail(
            f"no Chromium at {CHROMIUM_PATH}: install it with `apt-get install chromium`",
            REQUIRE_BROWSER,
        )
    return CHROMIUM_PATH


STRONG_PASSWORD = "correct horse battery staple 42"


def force_login_verified(client, user):
    """Sign a test client in as the user with a verified second factor.

    The admin (an OTP admin site) and every page of a user who must use MFA refuse a session
    that has not passed a second factor; this leaves the session as the login stage would.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def csp_violations(tab) -> list[str]:
    """The Content-Security-Policy refusals of a Playwright tab, as Chromium reports them.

    A page that needs an inline script or a resource from elsewhere would otherwise just quietly
    not work for its users; browser tests assert the list stays empty.
    """
    violations: list[str] = []

    def note(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{tab.url}: {message.text}")

    tab.on("console", note)
    return violations


def broker_down(*args, **kwargs):
    """A task's ``delay`` while the broker does not answer (monkeypatched in by tests)."""
    from kombu.exceptions import OperationalError

    raise OperationalError("broker down")
