"""Encryption of personal and card data: the keyring, encrypted fields and blind indexes.

Import the fields from here (``from apps.core.crypto import EncryptedTextField``) and the
keysets from ``apps.core.crypto.keyring`` (``keyring.get_aead("pii")``).
"""

from apps.core.crypto.fields import (
    BlindIndexField,
    DecryptionError,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedField,
    EncryptedFieldError,
    EncryptedJSONField,
    EncryptedModel,
    EncryptedTextField,
)

__all__ = [
    "BlindIndexField",
    "DecryptionError",
    "EncryptedDateField",
    "EncryptedEmailField",
    "EncryptedField",
    "EncryptedFieldError",
    "EncryptedJSONField",
    "EncryptedModel",
    "EncryptedTextField",
]
