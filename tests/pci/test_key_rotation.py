"""The card keyset rotates: a new primary key encrypts, old cards move onto it, all still open."""

import pytest

from apps.core.crypto import keyring
from apps.pci import keys, services
from apps.pci.access import Caller
from apps.pci.models import CardToken
from tests.pci import cards

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_keyring(tmp_path):
    """A keyring of this test's own, in a folder of its own, so rotating it touches nothing
    else."""
    ring = keyring.Keyring(environ={}, directory=tmp_path, production=False)
    with keyring.use_keyring(ring):
        yield ring


def key_of(card) -> int:
    return keys.ciphertext_key_id(bytes(CardToken.objects.get(pk=card.pk).pan_ciphertext))


def save(owner, number):
    card, _ = services.tokenize_card(
        pan=number, expiry_month=12, expiry_year=2030, owner=owner,
        actor=Caller.for_user(owner),
    )  # fmt: skip
    return card


def test_after_a_rotation_old_cards_are_re_encrypted_under_the_new_key(
    own_keyring, customer, card_revealer
):
    card = save(customer, cards.VISA)
    old_key = key_of(card)

    new_key = keys.rotate_card_key()
    moved = services.reencrypt_card_tokens()

    assert moved == 1
    assert key_of(card) == new_key != old_key
    olivia = Caller.for_user(card_revealer, second_factor_recent=True)
    assert services.detokenize_card(token=card.token, purpose="after rotation", actor=olivia) == (
        cards.VISA
    )
    assert services.reencrypt_card_tokens() == 0, "a second run has nothing left to do"


def test_a_card_encrypted_under_the_old_key_still_opens_before_it_is_moved(
    own_keyring, customer, card_revealer
):
    card = save(customer, cards.AMEX)

    keys.rotate_card_key()
    olivia = Caller.for_user(card_revealer, second_factor_recent=True)

    assert services.detokenize_card(token=card.token, purpose="before moving", actor=olivia) == (
        cards.AMEX
    )


def test_in_production_the_vault_refuses_to_work_without_a_card_keyset(tmp_path):
    ring = keyring.Keyring(environ={}, directory=tmp_path, production=True)

    with keyring.use_keyring(ring), pytest.raises(keyring.KeyringError):
        keys.card_aead()
