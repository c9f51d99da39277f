"""Our TOTP check against RFC 6238's published test vectors (appendix B, SHA-1)."""

import binascii

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.mfa import services
from tests.accounts.mfa_support import TotpClock
from tests.conftest import make_person

RFC_SECRET = b"12345678901234567890"
# (Unix time, 8-digit TOTP) from RFC 6238, appendix B, SHA-1 column.
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("moment", "expected"), RFC_VECTORS)
def test_the_device_accepts_each_rfc_6238_eight_digit_vector(monkeypatch, moment, expected):
    user = make_person("vera@example.com")
    device = TOTPDevice.objects.create(
        user=user, key=binascii.hexlify(RFC_SECRET).decode(), digits=8, confirmed=True
    )
    TotpClock(monkeypatch, start=moment)

    assert device.verify_token(expected)


@pytest.mark.parametrize(("moment", "expected"), RFC_VECTORS)
def test_the_portal_check_accepts_the_six_digit_form_of_each_vector(monkeypatch, moment, expected):
    # A six-digit code is the same HOTP value reduced modulo 10^6: the vector's last six digits.
    user = make_person("vera@example.com")
    TOTPDevice.objects.create(user=user, key=binascii.hexlify(RFC_SECRET).decode(), confirmed=True)
    TotpClock(monkeypatch, start=moment)

    result = services.verify_second_factor(user=user, code=expected[-6:])

    assert result.accepted


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-30, True), (30, True), (-60, False), (60, False)]
)
def test_a_code_is_accepted_one_step_either_side_and_no_further(monkeypatch, offset, accepted):
    user = make_person("vera@example.com")
    TOTPDevice.objects.create(user=user, key=binascii.hexlify(RFC_SECRET).decode(), confirmed=True)
    # Mid-way through the step of the RFC vector at 1234567890 (a step boundary).
    clock = TotpClock(monkeypatch, start=1234567890 + 15)
    code_now = "005924"

    clock.advance(offset)

    assert services.verify_second_factor(user=user, code=code_now).accepted is accepted
