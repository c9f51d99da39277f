"""Staff reveal a card number on a page: only with the right, a second factor confirmed in this
session within five minutes, and a reason; every attempt lands in the vault access log."""

import time

import pytest
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from django.urls import reverse

from apps.pci import services
from apps.pci.access import Caller
from apps.siem.models import SecurityEvent
from tests.pci import cards
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def caseys_card(customer):
    card, _ = services.tokenize_card(
        pan=cards.VISA, expiry_month=12, expiry_year=2030, owner=customer,
        actor=Caller.for_user(customer),
    )  # fmt: skip
    return card


def second_factor_confirmed(client, user, *, seconds_ago: float):
    """Leave in the session the record allauth's second-factor stage writes on success."""
    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "mfa", "type": "totp", "at": time.time() - seconds_ago}
    ]
    session.save()


def reveal(client, card, purpose="chargeback 2291 evidence"):
    return client.post(reverse("pci:reveal_card", args=[card.token]), {"purpose": purpose})


def access_outcomes():
    return list(
        SecurityEvent.objects.filter(event_type="data.access").values_list(
            "outcome", "details__reason"
        )
    )


def test_a_fresh_second_factor_and_the_right_reveal_the_number_once_recorded(
    client, card_revealer, caseys_card
):
    force_login_verified(client, card_revealer)
    second_factor_confirmed(client, card_revealer, seconds_ago=30)

    response = reveal(client, caseys_card)

    assert response.status_code == 200
    assert cards.VISA in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    [(outcome, _)] = access_outcomes()
    assert outcome == "success"


def test_a_second_factor_older_than_five_minutes_is_refused_and_recorded(
    client, card_revealer, caseys_card
):
    force_login_verified(client, card_revealer)
    second_factor_confirmed(client, card_revealer, seconds_ago=6 * 60)

    response = reveal(client, caseys_card)

    assert response.status_code == 403
    assert cards.VISA not in response.content.decode()
    assert reverse("mfa_reauthenticate") in response.content.decode()
    assert access_outcomes() == [("failure", "second_factor_required")]


def test_someone_without_the_right_is_refused_and_recorded(client, mallory, caseys_card):
    force_login_verified(client, mallory)
    second_factor_confirmed(client, mallory, seconds_ago=10)

    response = reveal(client, caseys_card)

    assert response.status_code == 403
    assert cards.VISA not in response.content.decode()
    assert access_outcomes() == [("failure", "not_permitted")]
