"""Case 22: one address is one account, whatever its letter case."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from apps.accounts.models import User
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def sign_up(client, address):
    return client.post(
        reverse("account_signup"),
        {"email": address, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )


def test_a_second_sign_up_in_another_case_creates_no_second_account(client):
    sign_up(client, "Sam@Example.com")
    client.logout()

    sign_up(client, "sam@example.com")

    assert User.objects.count() == 1
    assert User.objects.get().email == "sam@example.com"


def test_the_database_refuses_two_spellings_of_one_address():
    from django.db import IntegrityError, transaction

    User.objects.create_user("sam@example.com", STRONG_PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypass the manager's folding to prove the constraint itself holds.
        User.objects.bulk_create([User(email="SAM@example.com")])


def test_an_address_of_one_account_cannot_be_added_to_another(client):
    make_person("sam@example.com")
    other = make_person("other@example.com")
    client.force_login(other)

    client.post(reverse("account_email"), {"action_add": "", "email": "SAM@example.COM"})

    assert not EmailAddress.objects.filter(user=other, email__iexact="sam@example.com").exists()
    assert EmailAddress.objects.filter(email__iexact="sam@example.com").count() == 1


@pytest.mark.parametrize("spelling", ["SAM@example.com", "sam@EXAMPLE.com", " Sam@Example.Com"])
def test_password_reset_finds_the_account_under_any_case(client, spelling, mailoutbox_rows):
    make_person("sam@example.com")

    client.post(reverse("account_reset_password"), {"email": spelling})

    queued = mailoutbox_rows()
    assert len(queued) == 1
    assert queued[0].recipients == ["sam@example.com"]
    assert "/accounts/password/reset/key/" in queued[0].body_text


@pytest.fixture
def mailoutbox_rows():
    from apps.core.models import OutboundEmail

    return lambda: list(OutboundEmail.objects.all())
