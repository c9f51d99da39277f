"""Enrolment, backup codes, throttling across devices and the slow-guessing lock."""

import re
from datetime import timedelta

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from apps.accounts.mfa import services
from apps.accounts.models import BackupCode, BackupCodeDevice, SecondFactorLock
from apps.core.models import OutboundEmail
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


def _shown_uri(response) -> str:
    match = re.search(r'data-testid="totp-uri">(otpauth://[^<]+)<', response.content.decode())
    assert match, "the enrolment page shows the otpauth:// URI"
    return match.group(1).replace("&amp;", "&")


# --- Enrolment -----------------------------------------------------------------------------


def test_an_authenticator_reading_the_shown_uri_produces_codes_the_portal_accepts(
    client, customer
):
    client.force_login(customer)
    page = client.get(reverse("mfa_totp_enrol"))
    app = pyotp.parse_uri(_shown_uri(page))

    response = client.post(reverse("mfa_totp_enrol"), {"code": app.now()})

    assert response.status_code == 200
    assert TOTPDevice.objects.get(user=customer).confirmed
    codes = re.findall(r"<li><code>([0-9a-z-]{14})</code></li>", response.content.decode())
    assert len(codes) == services.BACKUP_CODE_COUNT
    assert SecurityEvent.objects.filter(event_type="auth.mfa.enabled").count() == 1


def test_a_password_session_older_than_the_authenticator_cannot_replace_it(client, tessa):
    # Someone who knows Tessa's password signed in just before she set up her app; that
    # session must not swap her authenticator for their own with the password alone.
    assert submit_password(client, "tessa@example.com").status_code == 302
    tessas_app = give_totp(tessa)

    page = client.get(reverse("mfa_totp_enrol"))

    assert page.status_code == 302
    assert page.url.startswith(reverse("mfa_reauthenticate"))
    intruders_device = services.start_totp_enrolment(user=tessa)
    intruders_app = pyotp.parse_uri(intruders_device.config_url)
    client.post(reverse("mfa_totp_enrol"), {"code": intruders_app.now()})
    confirmed = TOTPDevice.objects.get(user=tessa, confirmed=True)
    assert pyotp.parse_uri(confirmed.config_url).secret == tessas_app.secret


def test_the_enrolment_page_shows_rfc_6238_parameters_and_a_qr_code(client, customer):
    client.force_login(customer)

    page = client.get(reverse("mfa_totp_enrol"))

    app = pyotp.parse_uri(_shown_uri(page))
    assert (app.digits, app.interval, app.digest().name) == (6, 30, "sha1")
    assert "<svg" in page.content.decode()


def test_an_authenticator_is_not_active_until_a_valid_code_is_typed(client, customer):
    client.force_login(customer)
    client.get(reverse("mfa_totp_enrol"))

    response = client.post(reverse("mfa_totp_enrol"), {"code": "000000"})

    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=customer, confirmed=True).exists()
    assert not services.has_second_factor(customer)


def test_any_confirmed_device_of_any_kind_counts_as_a_second_factor_and_only_its_owners(tessa):
    other = make_person("olga@example.com")
    assert not services.has_second_factor(tessa)

    TOTPDevice.objects.create(user=tessa, name="not yet confirmed", confirmed=False)
    assert not services.has_second_factor(tessa)

    WebAuthnCredential.objects.create(
        user=other, name="Olga's key", confirmed=True, credential_id_sha256="ab" * 32
    )
    assert services.has_second_factor(other)
    assert not services.has_second_factor(tessa), "another person's passkey is not hers"

    give_backup_codes(tessa)
    assert services.has_second_factor(tessa)
    BackupCodeDevice.objects.filter(user=tessa).update(confirmed=False)
    assert not services.has_second_factor(tessa)

    give_totp(tessa)
    assert services.has_second_factor(tessa)


# --- Backup codes --------------------------------------------------------------------------


def test_backup_codes_are_stored_only_as_digests(tessa):
    codes = give_backup_codes(tessa)

    stored = list(BackupCode.objects.values_list("digest", flat=True))
    assert len(set(codes)) == 10
    assert not set(codes) & set(stored)
    assert all(len(digest) == 64 for digest in stored)


def test_a_backup_code_logs_in_once_and_is_refused_the_second_time(client, tessa):
    give_totp(tessa)
    code = give_backup_codes(tessa)[3]

    submit_password(client, "tessa@example.com")
    first = submit_code(client, services.format_backup_code(code).upper())
    client.post(reverse("account_logout"))
    submit_password(client, "tessa@example.com")
    second = submit_code(client, code)

    assert first.status_code == 302
    assert second.status_code == 200
    assert signed_in_user_id(client) is None


def test_using_a_backup_code_emails_the_user_and_says_how_many_remain(client, tessa):
    give_totp(tessa)
    code = give_backup_codes(tessa)[0]
    submit_password(client, "tessa@example.com")

    response = submit_code(client, code, follow=True)

    assert "9 remain" in response.content.decode()
    mail = OutboundEmail.objects.get(subject__contains="backup code")
    assert mail.recipients == ["tessa@example.com"]
    assert "9 unused codes remain" in mail.body_text
    assert SecurityEvent.objects.filter(event_type="auth.mfa.backup_code.used").exists()


# --- Field case 3: throttling across devices and slow guessing -----------------------------


def test_after_21_totp_logins_a_backup_code_still_works(client, tessa, monkeypatch):
    clock = TotpClock(monkeypatch)
    app = give_totp(tessa)
    backup_code = give_backup_codes(tessa)[0]

    for _ in range(21):
        clock.advance(30)
        submit_password(client, "tessa@example.com")
        assert submit_code(client, app.at(clock.now)).status_code == 302
        client.post(reverse("account_logout"))

    submit_password(client, "tessa@example.com")
    response = submit_code(client, backup_code)

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(tessa.pk)
    assert BackupCodeDevice.objects.get(user=tessa).throttling_failure_count == 0


def test_success_with_backup_codes_does_not_clear_failures_of_the_authenticator(tessa):
    give_totp(tessa)
    backup_code = give_backup_codes(tessa)[0]
    services.verify_second_factor(user=tessa, code="000000")

    assert services.verify_second_factor(user=tessa, code=backup_code).accepted

    assert TOTPDevice.objects.get(user=tessa).throttling_failure_count == 1


def test_a_wrong_code_makes_the_next_attempt_wait(tessa):
    app = give_totp(tessa)
    services.verify_second_factor(user=tessa, code="000000")

    result = services.verify_second_factor(user=tessa, code=app.now())

    assert result.refusal == services.Refusal.THROTTLED


def test_slow_guessing_at_the_pace_the_throttle_allows_locks_within_an_hour(tessa, monkeypatch):
    app = give_totp(tessa)
    started = timezone.now()
    moment = {"now": started}
    monkeypatch.setattr(timezone, "now", lambda: moment["now"])

    for attempt in range(services.SLOW_GUESSING_LIMIT):
        # Wait exactly as long as the per-device throttle asks: 1, 2, 4, ... seconds.
        moment["now"] += timedelta(seconds=2**attempt)
        result = services.verify_second_factor(user=tessa, code=f"{attempt:06d}")
        assert result.refusal == services.Refusal.WRONG

    assert moment["now"] - started < timedelta(hours=1)
    assert SecondFactorLock.objects.filter(user=tessa).exists()
    locked = SecurityEvent.objects.get(event_type="auth.mfa.locked")
    assert locked.severity == "high"
    moment["now"] += timedelta(seconds=2**services.SLOW_GUESSING_LIMIT)
    correct = services.verify_second_factor(user=tessa, code=app.at(moment["now"]))
    assert correct.refusal == services.Refusal.LOCKED


def test_a_locked_second_factor_is_told_to_its_owner_by_mail(tessa, monkeypatch):
    give_totp(tessa)
    moment = {"now": timezone.now()}
    monkeypatch.setattr(timezone, "now", lambda: moment["now"])

    for attempt in range(services.SLOW_GUESSING_LIMIT):
        moment["now"] += timedelta(seconds=2**attempt)
        services.verify_second_factor(user=tessa, code=f"{attempt:06d}")

    mail = OutboundEmail.objects.get(subject="Your second factor is locked")
    assert mail.recipients == [tessa.email]


def test_a_burst_refused_by_the_throttle_does_not_lock_the_second_factor(tessa):
    give_totp(tessa)
    services.verify_second_factor(user=tessa, code="000000")

    refusals = [
        services.verify_second_factor(user=tessa, code=f"{n:06d}").refusal
        for n in range(1, services.SLOW_GUESSING_LIMIT + 5)
    ]

    assert set(refusals) == {services.Refusal.THROTTLED}
    assert not services.is_second_factor_locked(tessa)


def test_a_burst_of_codes_no_device_could_accept_does_not_lock_the_second_factor(tessa):
    app = give_totp(tessa)

    for typed in ["x", "12345", "1234567", "not-a-code!", "0" * 32]:
        for _ in range(services.SLOW_GUESSING_LIMIT):
            result = services.verify_second_factor(user=tessa, code=typed)
            assert result.refusal == services.Refusal.WRONG

    assert not services.is_second_factor_locked(tessa)
    assert services.verify_second_factor(user=tessa, code=app.now()).accepted


def test_failures_older_than_the_window_do_not_count_towards_the_lock(tessa, monkeypatch):
    give_totp(tessa)
    moment = {"now": timezone.now()}
    monkeypatch.setattr(timezone, "now", lambda: moment["now"])

    # Ten failures seven minutes apart: never more than nine of them inside one hour.
    for _ in range(services.SLOW_GUESSING_LIMIT):
        moment["now"] += timedelta(minutes=7)
        result = services.verify_second_factor(user=tessa, code="123456")
        assert result.refusal == services.Refusal.WRONG

    assert not SecondFactorLock.objects.filter(user=tessa).exists()


def test_the_api_token_login_checks_codes_like_the_web_login(tessa):
    from apps.api.second_factor import passes_second_factor

    app = give_totp(tessa)
    backup_code = give_backup_codes(tessa)[0]

    assert passes_second_factor(tessa, app.now())[0]
    assert not passes_second_factor(tessa, app.now())[0], "a replay is refused at the API too"
    assert BackupCodeDevice.objects.get(user=tessa).throttling_failure_count == 0
    assert passes_second_factor(tessa, backup_code)[0]
