"""The vault's two keys, from the project keyring: ``pci`` (AES-256-GCM for card numbers) and
``pci-index`` (a PRF for card fingerprints).

Both are the card keysets, never the personal-data ones, so a leak of the PII keys reveals no card
and the vault rotates on its own schedule. Where keysets come from (environment, files, a master
key) and how they are generated is the keyring's business (``apps.core.crypto.keyring``).
"""

from tink import aead

from apps.core.crypto import keyring

CARD_KEYSET = "pci"
FINGERPRINT_KEYSET = "pci-index"
FINGERPRINT_BYTES = 32


def card_aead() -> aead.Aead:
    """AES-256-GCM under the card keyset; ciphertexts name the key that made them."""
    return keyring.get_aead(CARD_KEYSET)


def card_aead_primary_key_id() -> int:
    """The key new card ciphertexts are made with."""
    return keyring.default_keyring().primary_key_id(CARD_KEYSET)


def ciphertext_key_id(ciphertext: bytes) -> int | None:
    """Which key made a ciphertext (Tink writes its id into the first five bytes)."""
    return keyring.key_id_of(ciphertext)


def card_fingerprint_prfs() -> tuple[int, dict]:
    """(primary key id, {key id: PRF}) of the fingerprint keyset.

    New fingerprints use the primary key; lookups try every key, so rotating the fingerprint
    key does not break de-duplication of cards tokenised before.
    """
    prf_set = keyring.get_prf_set(FINGERPRINT_KEYSET)
    return prf_set.primary_id(), prf_set.all()


def rotate_card_key() -> int:
    """Add a new primary key to the card keyset where the keyring keeps it; return its id.

    Cards stay readable under their old key; ``reencrypt_card_tokens`` then moves them.
    """
    ring = keyring.default_keyring()
    key_id, keyset_json = ring.add_key(CARD_KEYSET, make_primary=True)
    ring.store(CARD_KEYSET, keyset_json)
    return key_id
