"""The vault's API: each endpoint for anonymous callers, users without rights, owners, partner
clients with scoped tokens, and staff with the reveal permission."""

import pytest
from rest_framework.test import APIClient

from apps.partners.models import Partner
from apps.pci import access, services
from apps.pci.access import Caller
from apps.pci.models import CardToken
from apps.siem.models import SecurityEvent
from tests.pci import cards
from tests.pci.conftest import ALL_CARD_SCOPES

pytestmark = pytest.mark.django_db
CARDS = "/api/v1/cards/"
NEW_CARD = {"number": cards.VISA_SPACED, "expiry_month": "12", "expiry_year": "2030"}


def api_as(user=None):
    """A user client; users reach the API with JWTs, stood in for by forced authentication."""
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def save_card(owner, number=cards.VISA):
    actor = Caller(user=None, client_id="setup") if isinstance(owner, Partner) else None
    card, _ = services.tokenize_card(
        pan=number, expiry_month=12, expiry_year=2030, owner=owner,
        actor=actor or Caller.for_user(owner),
    )  # fmt: skip
    return card


@pytest.fixture
def fresh_second_factor(monkeypatch):
    """The MFA step-up check answers yes, as it would just after a TOTP code was accepted."""
    monkeypatch.setattr(access, "second_factor_is_recent", lambda request: True)


# --- Tokenise ----------------------------------------------------------------------------


def test_anonymous_callers_cannot_tokenise():
    response = api_as().post(CARDS, NEW_CARD, format="json")

    assert response.status_code in (401, 403)
    assert not CardToken.objects.exists()


def test_a_user_tokenises_their_own_card_and_sees_it_masked(customer):
    response = api_as(customer).post(CARDS, NEW_CARD, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["masked"] == "Visa •••• 1111"
    assert body["token"].startswith("tok_")
    assert body["owner"] == f"user:{customer.pk}"
    assert "4111111111111111" not in response.content.decode()


def test_tokenising_the_same_card_again_returns_the_same_token(customer):
    first = api_as(customer).post(CARDS, NEW_CARD, format="json").json()
    again = api_as(customer).post(
        CARDS, {**NEW_CARD, "number": "4111-1111-1111-1111"}, format="json"
    )

    assert again.status_code == 200
    assert again.json()["token"] == first["token"]


@pytest.mark.parametrize("field", ["cvv", "CVC", "security_code", "cvv2"])
def test_a_security_code_sent_with_a_card_is_refused(customer, field):
    response = api_as(customer).post(CARDS, {**NEW_CARD, field: "123"}, format="json")

    assert response.status_code == 400
    assert "security_code" in response.json()["fields"]
    assert not CardToken.objects.exists()


@pytest.mark.parametrize(
    ("number", "rule"),
    [("4111x1111y1111z1111", "characters"), ("41111", "length"), ("4111111111111112", "luhn")],
)
def test_an_invalid_number_is_refused_with_the_rule_and_without_echoing_it(customer, number, rule):
    response = api_as(customer).post(CARDS, {**NEW_CARD, "number": number}, format="json")

    assert response.status_code == 400
    assert response.json()["rule"] == rule
    assert number not in response.content.decode()


@pytest.mark.parametrize(
    "body",
    [[], "x", {"number": 4111111111111111}, {"number": None}, {"expiry_month": {"a": 1}}],
)
def test_malformed_requests_get_a_400_not_a_500(customer, body):
    response = api_as(customer).post(CARDS, body, format="json")

    assert response.status_code == 400


def test_a_partner_client_with_the_tokenize_scope_tokenises_for_its_partner(acme_billing):
    response = acme_billing.api({"cards:tokenize"}).post(CARDS, NEW_CARD, format="json")

    assert response.status_code == 201
    assert response.json()["owner"] == f"partner:{acme_billing.partner.pk}"
    assert CardToken.objects.get().created_by == acme_billing.reference


def test_a_partner_client_without_the_tokenize_scope_is_refused(acme_billing):
    response = acme_billing.api({"cards:read"}).post(CARDS, NEW_CARD, format="json")

    assert response.status_code == 403
    assert not CardToken.objects.exists()


def test_a_partner_client_cannot_tokenise_for_another_partner(acme_billing, globex):
    response = acme_billing.api().post(CARDS, {**NEW_CARD, "partner": globex.pk}, format="json")

    assert response.status_code == 403
    assert not CardToken.objects.exists()


def test_a_user_cannot_tokenise_for_a_partner_without_access(acme, mallory):
    response = api_as(mallory).post(CARDS, {**NEW_CARD, "partner": acme.pk}, format="json")

    assert response.status_code == 403


# --- List, read, delete ------------------------------------------------------------------


def test_a_user_lists_only_their_own_cards_masked(customer, mallory):
    save_card(customer, cards.VISA)
    save_card(mallory, cards.MASTERCARD)

    response = api_as(customer).get(CARDS)

    assert response.status_code == 200
    [listed] = response.json()["results"]
    assert listed["masked"] == "Visa •••• 1111"
    assert cards.VISA not in response.content.decode()


def test_a_partner_client_lists_its_partners_cards_with_the_read_scope(acme_billing, globex):
    save_card(acme_billing.partner, cards.AMEX)
    save_card(globex, cards.DISCOVER)

    allowed = acme_billing.api({"cards:read"}).get(CARDS)
    refused = acme_billing.api({"cards:tokenize"}).get(CARDS)

    assert allowed.status_code == 200
    assert [c["masked"] for c in allowed.json()["results"]] == ["Amex •••• 0005"]
    assert refused.status_code == 403


def test_a_partner_client_cannot_read_or_delete_another_partners_card(acme_billing, globex):
    card = save_card(globex, cards.DISCOVER)

    assert acme_billing.api().get(f"{CARDS}{card.token}/").status_code == 404
    assert acme_billing.api().delete(f"{CARDS}{card.token}/").status_code == 404
    assert CardToken.objects.filter(pk=card.pk).exists()


def test_someone_elses_card_is_not_found_for_reading_or_deleting(customer, mallory):
    card = save_card(customer)

    assert api_as(mallory).get(f"{CARDS}{card.token}/").status_code == 404
    assert api_as(mallory).delete(f"{CARDS}{card.token}/").status_code == 404
    assert CardToken.objects.filter(pk=card.pk).exists()


def test_a_user_deletes_their_own_card_and_the_deletion_is_recorded(customer):
    card = save_card(customer)

    response = api_as(customer).delete(f"{CARDS}{card.token}/")

    assert response.status_code == 204
    assert not CardToken.objects.exists()
    event = SecurityEvent.objects.get(details__action="card.deleted")
    assert event.subject == f"card:{card.token}"


# --- Detokenise --------------------------------------------------------------------------


def detokenize(api, card, purpose="customer called about a refund"):
    return api.post(f"{CARDS}{card.token}/detokenize/", {"purpose": purpose}, format="json")


def failed_access_reasons():
    return list(
        SecurityEvent.objects.filter(event_type="data.access", outcome="failure").values_list(
            "details__reason", flat=True
        )
    )


def test_staff_with_the_right_and_a_fresh_second_factor_get_the_number_uncached(
    customer, card_revealer, fresh_second_factor
):
    card = save_card(customer)

    response = detokenize(api_as(card_revealer), card)

    assert response.status_code == 200
    assert response.json()["number"] == cards.VISA
    assert "no-store" in response["Cache-Control"]
    assert SecurityEvent.objects.filter(event_type="data.access", outcome="success").count() == 1


def test_a_refused_detokenisation_through_the_api_is_still_recorded(customer, mallory):
    """The refusal event survives the request: ATOMIC_REQUESTS must not roll it back."""
    card = save_card(customer)

    response = detokenize(api_as(mallory), card)

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert cards.VISA not in response.content.decode()
    assert failed_access_reasons() == ["not_permitted"]


def test_the_right_without_a_recent_second_factor_is_refused_through_the_api(
    customer, card_revealer
):
    card = save_card(customer)

    response = detokenize(api_as(card_revealer), card)

    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert failed_access_reasons() == ["second_factor_required"]


def test_a_detokenisation_without_a_purpose_is_refused_and_recorded(
    customer, card_revealer, fresh_second_factor
):
    card = save_card(customer)

    response = detokenize(api_as(card_revealer), card, purpose="")

    assert response.status_code == 400
    assert failed_access_reasons() == ["no_purpose"]


def test_an_unknown_token_looks_the_same_as_a_forbidden_one(mallory, card_revealer):
    response = api_as(mallory).post(
        f"{CARDS}tok_unknown/detokenize/", {"purpose": "just looking"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert failed_access_reasons() == ["unknown_token"]


def test_anonymous_callers_cannot_detokenise(customer):
    card = save_card(customer)

    response = detokenize(api_as(), card)

    assert response.status_code in (401, 403)
    assert "number" not in response.json()


def test_a_partner_client_detokenises_only_with_the_scope(acme_billing):
    card = save_card(acme_billing.partner, cards.AMEX)

    refused = detokenize(acme_billing.api(ALL_CARD_SCOPES - {"cards:detokenize"}), card)
    allowed = detokenize(acme_billing.api({"cards:detokenize"}), card)

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert allowed.json()["number"] == cards.AMEX
    assert failed_access_reasons() == ["scope_missing"]


@pytest.mark.parametrize("token", ["tok_\x00", "%00", "4111\x001111", "tok_" + "a" * 5000])
def test_a_card_address_no_token_could_have_is_not_found_never_an_error(customer, token):
    # PostgreSQL refuses NUL bytes in a query; such an address must never reach the database.
    api = api_as(customer)

    assert api.get(f"{CARDS}{token}/").status_code == 404
    assert api.delete(f"{CARDS}{token}/").status_code == 404
    detokenize = api.post(f"{CARDS}{token}/detokenize/", {"purpose": "chargeback"}, format="json")
    assert detokenize.status_code == 404
