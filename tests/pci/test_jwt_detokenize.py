"""Revealing a card number with a user client's JWT.

Olivia (compliance, ``cards:detokenize:all``) signs in at the token endpoint with her password
and a code from her authenticator app; her token session records that second factor when it
begins, and that record, not the token's ``mfa_verified`` claim, is what the vault trusts for
five minutes. Mallory has an authenticator too, but no right to reveal anything.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from apps.api.models import TokenSession
from apps.pci.access import token_session_passed_second_factor_recently
from apps.siem.models import SecurityEvent
from tests.accounts.mfa_support import give_totp
from tests.api.conftest import api_as, password_login
from tests.pci import cards
from tests.pci.test_api import save_card

pytestmark = pytest.mark.django_db
PURPOSE = {"purpose": "chargeback dispute 1182"}


def jwt_login(user, authenticator=None) -> str:
    """An access token from the token endpoint, with a second factor when one is given."""
    response = password_login(user.email, otp=authenticator.now() if authenticator else None)
    assert response.status_code == 200, response.content
    return response.json()["access"]


def detokenize(token: str, card, body=PURPOSE):
    return api_as(token).post(f"/api/v1/cards/{card.token}/detokenize/", body, format="json")


def access_events(outcome: str):
    return SecurityEvent.objects.filter(event_type="data.access", outcome=outcome)


def test_a_jwt_caller_with_the_right_a_fresh_second_factor_and_a_purpose_sees_the_number(
    customer, card_revealer
):
    card = save_card(customer)
    access = jwt_login(card_revealer, give_totp(card_revealer))

    response = detokenize(access, card)

    assert response.status_code == 200
    assert response.json()["number"] == cards.VISA
    assert "no-store" in response["Cache-Control"]
    event = access_events("success").get()
    session = TokenSession.objects.get(user=card_revealer)
    assert event.actor == f"user:{card_revealer.pk}"
    assert event.details["card"] == card.token
    assert event.details["api_session"] == str(session.pk)
    assert cards.VISA not in str(event.details)


def test_a_jwt_whose_second_factor_is_older_than_five_minutes_is_refused_and_recorded(
    customer, card_revealer
):
    card = save_card(customer)
    access = jwt_login(card_revealer, give_totp(card_revealer))
    TokenSession.objects.filter(user=card_revealer).update(
        created_at=timezone.now() - timedelta(minutes=5, seconds=1)
    )

    response = detokenize(access, card)

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert "number" not in response.json()
    assert list(access_events("failure").values_list("details__reason", flat=True)) == [
        "second_factor_required"
    ]


def test_a_jwt_claiming_a_second_factor_its_session_never_passed_is_refused(
    customer, card_revealer
):
    """A token signed by us but saying mfa_verified for a password-only session (as a token
    minted by a faulty issuer would) does not stand in for the session record."""
    card = save_card(customer)
    card_revealer.is_staff = False  # so that a password alone gets tokens
    card_revealer.save(update_fields=["is_staff"])
    issued = AccessToken(jwt_login(card_revealer))
    assert issued["mfa_verified"] is False
    forged = AccessToken(str(issued))
    forged["mfa_verified"] = True  # signed again with the portal's own key

    response = detokenize(str(forged), card)

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert access_events("failure").get().details["reason"] == "second_factor_required"


def test_a_jwt_caller_without_the_detokenize_right_is_refused_and_recorded(customer, mallory):
    card = save_card(customer)
    access = jwt_login(mallory, give_totp(mallory))

    response = detokenize(access, card)

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert cards.VISA not in response.content.decode()
    assert access_events("failure").get().details["reason"] == "not_permitted"
    assert not access_events("success").exists()


@pytest.mark.parametrize("body", [{}, {"purpose": ""}, {"purpose": "why"}])
def test_a_jwt_caller_stating_no_purpose_is_refused_and_recorded(customer, card_revealer, body):
    card = save_card(customer)
    access = jwt_login(card_revealer, give_totp(card_revealer))

    response = detokenize(access, card, body)

    assert response.status_code == 400
    assert access_events("failure").get().details["reason"] == "no_purpose"
    assert not access_events("success").exists()


def test_an_ended_token_session_counts_as_no_second_factor(card_revealer):
    session = TokenSession(
        user=card_revealer, mfa_verified=True, created_at=timezone.now(),
        ended_at=timezone.now(),
    )  # fmt: skip

    assert token_session_passed_second_factor_recently(session) is False
    session.ended_at = None
    assert token_session_passed_second_factor_recently(session) is True
