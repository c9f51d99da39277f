"""Tokenising stores a random token and an encrypted number, and nothing more readable."""

import pytest
import tink
from django.db import transaction

from apps.pci import services
from apps.pci.access import Caller
from apps.pci.keys import card_aead
from apps.pci.models import CardToken
from apps.pci.validation import CardRejected, luhn_is_valid
from apps.siem.models import SecurityEvent
from tests.pci import cards

pytestmark = pytest.mark.django_db


def tokenize(owner, number=cards.VISA, **options):
    actor = options.pop("actor", None) or Caller.for_user(owner)
    options.setdefault("expiry_month", 12)
    options.setdefault("expiry_year", 2030)
    return services.tokenize_card(pan=number, owner=owner, actor=actor, **options)


def test_a_token_is_random_opaque_and_keeps_brand_and_last_four(customer):
    card, created = tokenize(customer, cards.VISA_SPACED)

    assert created
    assert card.token.startswith("tok_")
    assert len(card.token) == 28
    assert "4111" not in card.token
    assert (card.brand, card.last_four, card.masked) == ("Visa", "1111", "Visa •••• 1111")
    assert card.created_by == f"user:{customer.pk}"


def test_the_number_is_stored_only_as_aes_gcm_ciphertext_bound_to_its_token(customer):
    card, _ = tokenize(customer)
    stored = bytes(CardToken.objects.get(pk=card.pk).pan_ciphertext)

    assert cards.VISA.encode() not in stored
    assert card_aead().decrypt(stored, f"pci.card:{card.token}".encode()) == cards.VISA.encode()
    # Moved onto another token's row, the ciphertext no longer opens.
    with pytest.raises(tink.TinkError):
        card_aead().decrypt(stored, b"pci.card:tok_someoneelse")


def test_tokenising_the_same_card_twice_for_one_owner_returns_the_same_token(customer):
    first, _ = tokenize(customer, cards.VISA)
    again, created = tokenize(customer, cards.VISA_SPACED, expiry_month=1, expiry_year=2031)

    assert not created
    assert again.token == first.token
    assert (again.expiry_month, again.expiry_year) == (1, 2031)
    assert CardToken.objects.count() == 1


def test_the_same_card_of_two_owners_gets_two_unlinkable_tokens(customer, mallory):
    caseys, _ = tokenize(customer)
    mallorys, _ = tokenize(mallory)

    assert caseys.token != mallorys.token
    assert caseys.fingerprint != mallorys.fingerprint


def test_a_partner_can_own_a_card(acme, acme_billing):
    card, _ = tokenize(acme, actor=acme_billing.caller())

    assert card.owner == acme
    assert card.created_by == acme_billing.reference


def test_a_format_preserving_token_keeps_length_and_last_four_and_fails_luhn(customer):
    for number in (cards.VISA, cards.AMEX, cards.VISA_19, cards.MAESTRO):
        card, _ = tokenize(customer, number, token_format=CardToken.Format.FORMAT_PRESERVING)

        assert len(card.token) == len(number)
        assert set(card.token) <= set("0123456789")
        assert card.token[-4:] == number[-4:]
        assert card.token != number
        assert not luhn_is_valid(card.token)


def test_a_security_code_sent_for_storage_is_refused_and_nothing_is_stored(customer):
    with pytest.raises(services.SecurityCodeRefused):
        tokenize(customer, security_code="123")

    assert not CardToken.objects.exists()


def test_an_invalid_number_is_refused_with_its_rule_and_nothing_is_stored(customer):
    with pytest.raises(CardRejected) as refused:
        tokenize(customer, "4111111111111112")

    assert refused.value.rule == "luhn"
    assert not CardToken.objects.exists()


def test_a_new_card_is_recorded_as_an_event_naming_the_token_not_the_number(customer):
    card, _ = tokenize(customer)

    event = SecurityEvent.objects.get(event_type="data.modification")
    assert event.subject == f"card:{card.token}"
    assert event.details["action"] == "card.tokenized"
    assert cards.VISA not in str(event.details)


def test_the_vault_asks_the_project_keyring_for_the_card_keysets_only(monkeypatch, customer):
    from apps.core.crypto import keyring

    asked = []
    real_aead, real_prf_set = keyring.get_aead, keyring.get_prf_set
    monkeypatch.setattr(keyring, "get_aead", lambda name: asked.append(name) or real_aead(name))
    monkeypatch.setattr(
        keyring, "get_prf_set", lambda name: asked.append(name) or real_prf_set(name)
    )

    tokenize(customer)

    assert set(asked) == {"pci", "pci-index"}


def test_the_card_and_its_event_are_one_write_and_the_event_goes_to_detection(
    monkeypatch, customer, django_capture_on_commit_callbacks
):
    from apps.siem import receivers, tasks

    detection_runs = []
    monkeypatch.setattr(tasks.process_pending_events, "delay", lambda: detection_runs.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        card, created = tokenize(customer)
    assert receivers.asker.wait_until_asked()

    event = SecurityEvent.objects.get(event_type="data.modification")
    assert created
    assert card.pk == CardToken.objects.get(token=card.token).pk
    # One detection run was asked for, and the event waits for it: not yet in the chain.
    assert detection_runs == [1]
    assert event.chain_seq is None


def test_a_card_held_already_inside_a_transaction_leaves_it_usable_and_adds_no_event(customer):
    """The second insert clashes on the fingerprint; it must neither abort the caller's
    transaction nor leave an event behind for a card that was not stored."""
    with transaction.atomic():
        first, _ = tokenize(customer)
        again, created = tokenize(customer, cards.VISA_SPACED)
        assert CardToken.objects.count() == 1  # the transaction still answers queries

    assert (again.token, created) == (first.token, False)
    assert SecurityEvent.objects.filter(details__action="card.tokenized").count() == 1
