"""Case 8: however an identifier is written, it names one account for login and for counting."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from apps.siem.models import SecurityEvent
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not the password at all"


@pytest.fixture
def alice():
    user = make_person("alice@example.com")
    EmailAddress.objects.create(user=user, email="alice.alias@example.com", verified=True)
    return user


def log_in(client, login, password):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def is_logged_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize(
    "spelling", ["ALICE@example.com", " Alice@Example.com ", "alice@EXAMPLE.COM"]
)
def test_any_spelling_of_the_address_logs_the_account_in(client, alice, spelling):
    log_in(client, spelling, STRONG_PASSWORD)

    assert is_logged_in(client)
    assert client.session["_auth_user_id"] == str(alice.pk)


@pytest.mark.parametrize(
    "spelling", ["ALICE@example.com", " Alice@Example.com ", "alice.alias@example.com"]
)
def test_failures_under_one_spelling_lock_every_other_spelling(client, alice, spelling):
    for _ in range(5):
        log_in(client, "alice@example.com", WRONG_PASSWORD)

    response = log_in(client, spelling, STRONG_PASSWORD)

    assert not is_logged_in(client)
    assert "Too many failed login attempts" in response.content.decode()


def test_failures_spread_over_spellings_share_one_counter(client, alice):
    spellings = ["alice@example.com", "ALICE@example.com", " Alice@Example.com ",
                 "alice.alias@example.com", "Alice.Alias@example.com"]  # fmt: skip
    for spelling in spellings:
        log_in(client, spelling, WRONG_PASSWORD)

    log_in(client, "alice@example.com", STRONG_PASSWORD)

    assert not is_logged_in(client)


def test_a_failed_login_records_the_identifier_as_the_login_folds_it(client, alice):
    log_in(client, "  ALICE@Example.COM ", WRONG_PASSWORD)

    # Any spelling of an account's address is recorded as the account's reference, never the
    # address itself: security events are append-only, and erasure must leave no address there.
    failure = SecurityEvent.objects.get(event_type="auth.login.failure")
    assert failure.details == {"identifier": f"user:{alice.pk}"}
    assert failure.subject == f"user:{alice.pk}"
    assert WRONG_PASSWORD not in str(failure.details)


def test_a_failed_login_for_no_account_records_the_identifier_as_the_login_folds_it(client):
    log_in(client, "  NOBODY@Example.COM ", WRONG_PASSWORD)

    failure = SecurityEvent.objects.get(event_type="auth.login.failure")
    assert failure.details == {"identifier": "nobody@example.com"}
