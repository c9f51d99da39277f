"""The card keyset rotates: a new primary key encrypts, old cards move onto it, all still open."""

import io
import json

import pytest
import tink
from django.core.exceptions import ImproperlyConfigured
from tink import aead, cleartext_keyset_handle

from apps.pci import keys, services
from apps.pci.access import Caller
from apps.pci.models import CardToken
from tests.pci import cards

pytestmark = pytest.mark.django_db


def fresh_keyset() -> str:
    written = io.StringIO()
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    cleartext_keyset_handle.write(tink.JsonKeysetWriter(written), handle)
    return written.getvalue()


@pytest.fixture
def use_card_keyset(monkeypatch):
    def use(serialized: str) -> int:
        monkeypatch.setenv(keys.AEAD_KEYSET_VARIABLE, serialized)
        keys.forget_loaded_keys()
        return json.loads(serialized)["primaryKeyId"]

    yield use
    monkeypatch.delenv(keys.AEAD_KEYSET_VARIABLE)
    keys.forget_loaded_keys()


def key_of(card) -> int:
    return keys.ciphertext_key_id(bytes(CardToken.objects.get(pk=card.pk).pan_ciphertext))


def test_after_a_rotation_old_cards_are_re_encrypted_under_the_new_key(
    use_card_keyset, customer, card_revealer
):
    old_keyset = fresh_keyset()
    old_key = use_card_keyset(old_keyset)
    card, _ = services.tokenize_card(
        pan=cards.VISA, expiry_month=12, expiry_year=2030, owner=customer,
        actor=Caller.for_user(customer),
    )  # fmt: skip
    assert key_of(card) == old_key

    new_key = use_card_keyset(
        keys.with_new_primary_key(old_keyset, aead.aead_key_templates.AES256_GCM)
    )
    moved = services.reencrypt_card_tokens()

    assert moved == 1
    assert key_of(card) == new_key != old_key
    olivia = Caller.for_user(card_revealer, second_factor_recent=True)
    assert services.detokenize_card(token=card.token, purpose="after rotation", actor=olivia) == (
        cards.VISA
    )
    assert services.reencrypt_card_tokens() == 0, "a second run has nothing left to do"


def test_a_card_encrypted_under_the_old_key_still_opens_before_it_is_moved(
    use_card_keyset, customer, card_revealer
):
    old_keyset = fresh_keyset()
    use_card_keyset(old_keyset)
    card, _ = services.tokenize_card(
        pan=cards.AMEX, expiry_month=12, expiry_year=2030, owner=customer,
        actor=Caller.for_user(customer),
    )  # fmt: skip

    use_card_keyset(keys.with_new_primary_key(old_keyset, aead.aead_key_templates.AES256_GCM))
    olivia = Caller.for_user(card_revealer, second_factor_recent=True)

    assert services.detokenize_card(token=card.token, purpose="before moving", actor=olivia) == (
        cards.AMEX
    )


def test_in_production_the_vault_refuses_to_work_without_a_card_keyset(settings, monkeypatch):
    settings.PRODUCTION = True
    monkeypatch.delenv(keys.AEAD_KEYSET_VARIABLE, raising=False)
    keys.forget_loaded_keys()
    try:
        with pytest.raises(ImproperlyConfigured, match=keys.AEAD_KEYSET_VARIABLE):
            keys.card_aead()
    finally:
        keys.forget_loaded_keys()
