"""No admin page shows an authenticator's secret, not even to a superuser.

Whoever reads a TOTP key can compute the person's codes for ever, so the admin lists and edits
devices without their keys, and django-otp's QR code and configuration views refuse.
"""

import binascii

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def someones_device():
    return TOTPDevice.objects.create(user=make_person("kim@example.com"), name="phone")


def _key_spellings(device) -> list[str]:
    # The key as stored (hex) and as an authenticator shows it (base32).
    from base64 import b32encode

    raw = binascii.unhexlify(device.key)
    return [device.key, b32encode(raw).decode().rstrip("=")]


def test_the_device_list_and_page_show_no_key(admin_client, someones_device):
    listing = admin_client.get("/admin/otp_totp/totpdevice/")
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{someones_device.pk}/change/")

    assert listing.status_code == page.status_code == 200
    for response in (listing, page):
        body = response.content.decode()
        for spelling in _key_spellings(someones_device):
            assert spelling not in body
        assert "qrcode" not in body


@pytest.mark.parametrize("view", ["qrcode", "config"])
def test_the_qr_code_and_configuration_views_refuse(admin_client, someones_device, view):
    response = admin_client.get(f"/admin/otp_totp/totpdevice/{someones_device.pk}/{view}/")

    assert response.status_code == 403
    for spelling in _key_spellings(someones_device):
        assert spelling not in response.content.decode()
