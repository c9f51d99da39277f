"""The vault's two keys: AES-256-GCM for card numbers and a PRF for card fingerprints.

Both come from the card keyring (``pci``), never from the personal-data one, so a leak of the
PII keys reveals no card and the vault can be rotated on its own schedule.

The project keyring in ``apps.core.crypto`` owns keysets for every area. Until it is present in
this code base, this module reads the vault's Tink keysets itself, from ``PCI_AEAD_KEYSET`` and
``PCI_FINGERPRINT_KEYSET`` (or ``*_FILE``), and in development generates them under ``var/keys``.
TODO: drop the local keysets once ``apps.core.crypto.keyring`` provides ``get_aead("pci")`` and a
PRF for card fingerprints; only ``card_aead()`` and ``card_fingerprint_prfs()`` change.
"""

import contextlib
import functools
import io
import json
import os
import tempfile
from pathlib import Path

import tink
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from tink import aead, cleartext_keyset_handle, prf

from config.env import env_secret

AEAD_KEYSET_VARIABLE = "PCI_AEAD_KEYSET"
FINGERPRINT_KEYSET_VARIABLE = "PCI_FINGERPRINT_KEYSET"
FINGERPRINT_BYTES = 32

aead.register()
prf.register()


@functools.cache
def project_keyring():
    """The project keyring module, or None while it is not part of this code base.

    Looked up once: a failed import is retried from scratch on every call and costs more than
    the encryption it would serve.
    """
    try:
        from apps.core.crypto import keyring
    except ImportError:
        return None
    return keyring


def card_aead() -> aead.Aead:
    """AES-256-GCM under the card keyset; ciphertexts name the key that made them."""
    keyring = project_keyring()
    if keyring is not None:
        return keyring.get_aead("pci")
    return _local_aead()


def card_aead_primary_key_id() -> int | None:
    """The key new card ciphertexts are made with, when this module holds the keyset."""
    keyring = project_keyring()
    if keyring is not None:
        return getattr(keyring, "primary_key_id", lambda name: None)("pci")
    return _local_keyset_info(AEAD_KEYSET_VARIABLE).primary_key_id


def ciphertext_key_id(ciphertext: bytes) -> int | None:
    """Which key made a Tink ciphertext: its 5-byte prefix is a version byte and the key id."""
    if len(ciphertext) < 5 or ciphertext[0] != 1:
        return None
    return int.from_bytes(ciphertext[1:5], "big")


def with_new_primary_key(serialized: str, template) -> str:
    """A keyset (Tink JSON) with a fresh key added and made primary; old keys still decrypt."""
    written = io.StringIO()
    cleartext_keyset_handle.write(tink.JsonKeysetWriter(written), tink.new_keyset_handle(template))
    keyset, fresh = json.loads(serialized), json.loads(written.getvalue())
    keyset["key"].extend(fresh["key"])
    keyset["primaryKeyId"] = fresh["primaryKeyId"]
    return json.dumps(keyset, indent=2)


def rotate_development_card_key() -> int:
    """Add a new primary key to the development card keyset in var/keys; return its id."""
    if settings.PRODUCTION or env_secret(AEAD_KEYSET_VARIABLE):
        raise ImproperlyConfigured(
            f"{AEAD_KEYSET_VARIABLE} comes from the environment: rotate it where it is kept"
        )
    template = aead.aead_key_templates.AES256_GCM
    path = Path(settings.VAR_DIR) / "keys" / f"{AEAD_KEYSET_VARIABLE.lower()}.json"
    rotated = with_new_primary_key(_development_keyset(AEAD_KEYSET_VARIABLE, template), template)
    path.write_text(rotated, encoding="utf-8")
    forget_loaded_keys()
    return json.loads(rotated)["primaryKeyId"]


def forget_loaded_keys() -> None:
    """Read the keysets again on next use (after a rotation, or in tests)."""
    _local_aead.cache_clear()
    _local_prf_set.cache_clear()
    _local_keyset_info.cache_clear()


def card_fingerprint_prfs() -> tuple[int, dict]:
    """(primary key id, {key id: PRF}) of the fingerprint keyset.

    New fingerprints use the primary key; lookups try every key, so rotating the fingerprint
    key does not break de-duplication of cards tokenised before.
    """
    prf_set = _local_prf_set()
    return prf_set.primary_id(), prf_set.all()


@functools.cache
def _local_aead() -> aead.Aead:
    return _local_handle(AEAD_KEYSET_VARIABLE, aead.aead_key_templates.AES256_GCM).primitive(
        aead.Aead
    )


@functools.cache
def _local_keyset_info(variable: str):
    return _local_handle(variable, aead.aead_key_templates.AES256_GCM).keyset_info()


@functools.cache
def _local_prf_set() -> prf.PrfSet:
    handle = _local_handle(FINGERPRINT_KEYSET_VARIABLE, prf.prf_key_templates.HMAC_SHA256)
    return handle.primitive(prf.PrfSet)


def _local_handle(variable: str, template) -> tink.KeysetHandle:
    serialized = env_secret(variable)
    if not serialized:
        if settings.PRODUCTION:
            raise ImproperlyConfigured(f"{variable} is required when PORTAL_ENV=production")
        serialized = _development_keyset(variable, template)
    return cleartext_keyset_handle.read(tink.JsonKeysetReader(serialized))


def _development_keyset(variable: str, template) -> str:
    """A keyset kept in var/keys, created once and shared by the web server and the worker."""
    folder = Path(settings.VAR_DIR) / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{variable.lower()}.json"
    if not path.exists():
        written = io.StringIO()
        cleartext_keyset_handle.write(
            tink.JsonKeysetWriter(written), tink.new_keyset_handle(template)
        )
        # Link a finished file into place: of two processes starting at once, one wins and
        # the other reads the winner's keyset instead of overwriting it.
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False) as draft:
            draft.write(written.getvalue())
        os.chmod(draft.name, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft.name, path)
        os.unlink(draft.name)
    return path.read_text(encoding="utf-8")
