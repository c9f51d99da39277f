"""Field values are opened without Tink's Python wrapper, byte for byte as Tink would open them.

The keys are read here straight from the keyset JSON (not through the keyring), and Tink's
ciphertext format is written out by hand: version byte 0x01, the 4-byte key id, a 12-byte IV,
then AES-GCM's ciphertext and 16-byte tag.
"""

import base64
import json
import os

import pytest
import tink
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tink import secret_key_access
from tink.proto import aes_gcm_pb2, tink_pb2

from apps.core.crypto.keyring import Keyring, _fast_opener, key_id_of

ASSOCIATED_DATA = b"accounts.profile|phone|6f1c1d5e-0000-4000-8000-000000000001"


class TinkMustNotBeAsked:
    """Stands in for Tink's AEAD: the fast path must open valid ciphertext on its own."""

    def decrypt(self, ciphertext, associated_data):
        raise AssertionError("the fast path handed a valid ciphertext to Tink")


def rotated_keyring(tmp_path):
    """A pii keyset that went through two rotations, and one Tink ciphertext per key."""
    keyring = Keyring(environ={}, directory=tmp_path, production=False)
    sealed = {}
    for round_number in range(3):
        if round_number:
            _, keyset_json = keyring.add_key("pii", make_primary=True)
            keyring.store("pii", keyset_json)
        plaintext = f"value sealed in round {round_number}".encode()
        ciphertext = keyring.aead("pii").encrypt(plaintext, ASSOCIATED_DATA)
        sealed[key_id_of(ciphertext)] = (plaintext, ciphertext)
    return keyring, sealed


def key_material(keyset_path) -> dict[int, bytes]:
    """Key id -> raw AES key, read from the keyset JSON as an independent reader would."""
    keyset = json.loads(keyset_path.read_text())
    return {
        key["keyId"]: aes_gcm_pb2.AesGcmKey.FromString(
            base64.b64decode(key["keyData"]["value"])
        ).key_value
        for key in keyset["key"]
    }


def seal_by_hand(key_id: int, key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    iv = os.urandom(12)
    prefix = b"\x01" + key_id.to_bytes(4, "big")
    return prefix + iv + AESGCM(key).encrypt(iv, plaintext, associated_data)


def test_every_key_of_a_rotated_keyset_opens_tink_ciphertext_without_tink(tmp_path):
    keyring, sealed = rotated_keyring(tmp_path)
    opener = _fast_opener(keyring._get("pii").handle, TinkMustNotBeAsked())

    assert len(sealed) == 3
    for plaintext, ciphertext in sealed.values():
        assert opener(ciphertext, ASSOCIATED_DATA) == plaintext
        assert keyring.opener("pii")(ciphertext, ASSOCIATED_DATA) == plaintext


def test_ciphertext_written_by_hand_in_tinks_format_is_opened_by_tink_and_the_fast_path(
    tmp_path,
):
    keyring, sealed = rotated_keyring(tmp_path)
    keys = key_material(tmp_path / "pii.json")

    assert set(keys) == set(sealed)
    for key_id, key in keys.items():
        ciphertext = seal_by_hand(key_id, key, b"written by hand", ASSOCIATED_DATA)
        assert keyring.aead("pii").decrypt(ciphertext, ASSOCIATED_DATA) == b"written by hand"
        assert keyring.opener("pii")(ciphertext, ASSOCIATED_DATA) == b"written by hand"


def test_tinks_ciphertext_opens_by_hand_with_the_key_its_prefix_names(tmp_path):
    _, sealed = rotated_keyring(tmp_path)
    keys = key_material(tmp_path / "pii.json")

    for key_id, (plaintext, ciphertext) in sealed.items():
        assert ciphertext[:5] == b"\x01" + key_id.to_bytes(4, "big")
        iv, body = ciphertext[5:17], ciphertext[17:]
        assert AESGCM(keys[key_id]).decrypt(iv, body, ASSOCIATED_DATA) == plaintext


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c, ad: (flip(c, len(c) - 1), ad),  # the tag
        lambda c, ad: (flip(c, 20), ad),  # the ciphertext body
        lambda c, ad: (flip(c, 6), ad),  # the IV
        lambda c, ad: (flip(c, 4), ad),  # the key id: no such key
        lambda c, ad: (c, ad + b"x"),  # moved to another row or column
        lambda c, ad: (c[:32], ad),  # shorter than prefix, IV and tag
        lambda c, ad: (c[:5], ad),
        lambda c, ad: (b"", ad),
        lambda c, ad: (b"\x00" + c[1:], ad),  # another prefix type
    ],
    ids=["tag", "body", "iv", "key-id", "associated-data", "truncated", "prefix-only",
         "empty", "legacy-prefix"],
)  # fmt: skip
def test_what_tink_refuses_the_fast_path_refuses(tmp_path, tamper):
    keyring, sealed = rotated_keyring(tmp_path)
    for _, ciphertext in sealed.values():
        bad_ciphertext, associated_data = tamper(ciphertext, ASSOCIATED_DATA)

        with pytest.raises(tink.TinkError):
            keyring.aead("pii").decrypt(bad_ciphertext, associated_data)
        with pytest.raises(tink.TinkError):
            keyring.opener("pii")(bad_ciphertext, associated_data)


def test_a_disabled_key_opens_nothing_on_the_fast_path(tmp_path):
    keyring, sealed = rotated_keyring(tmp_path)
    keyset = tink_pb2.Keyset.FromString(
        tink.proto_keyset_format.serialize(keyring._get("pii").handle, secret_key_access.TOKEN)
    )
    disabled = next(key for key in keyset.key if key.key_id != keyset.primary_key_id)
    disabled.status = tink_pb2.DISABLED
    handle = tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
    with_disabled_key = Keyring(
        environ={
            "PORTAL_KEYSET_PII": tink.json_proto_keyset_format.serialize(
                handle, secret_key_access.TOKEN
            )
        },
        directory=tmp_path / "unused",
        production=False,
    )
    _, ciphertext = sealed[disabled.key_id]

    with pytest.raises(tink.TinkError):
        with_disabled_key.aead("pii").decrypt(ciphertext, ASSOCIATED_DATA)
    with pytest.raises(tink.TinkError):
        with_disabled_key.opener("pii")(ciphertext, ASSOCIATED_DATA)


def test_an_index_keyset_has_no_opener(tmp_path):
    keyring = Keyring(environ={}, directory=tmp_path, production=False)

    with pytest.raises(Exception, match="not an AEAD keyset"):
        keyring.opener("pii-index")
