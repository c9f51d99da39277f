"""Named Tink keysets: where they come from, how they are cached, and how they change.

Each keyset has a name and a kind. AEAD keysets (AES-256-GCM) encrypt fields; PRF keysets
(HMAC-SHA256) compute blind indexes. A keyset is read from, in order:

1. ``PORTAL_KEYSET_<NAME>``: the keyset's JSON in the environment variable itself;
2. ``PORTAL_KEYSET_<NAME>_FILE``: a path to a file holding that JSON;
3. in development only, ``<PORTAL_KEYSET_DIR>/<name>.json``, generated on first use.

When ``PORTAL_MASTER_KEYSET`` (or ``_FILE``) holds an AEAD keyset, every named keyset is stored
encrypted under it (Tink's encrypted keyset format, bound to the keyset's name), so a copy of
the keyset files alone opens nothing. Production refuses to start without the named keysets.

Tink writes the 4-byte id of the key that sealed a ciphertext after a version byte at its
start, so a keyset may hold several keys: the primary one encrypts, every enabled one decrypts.
Rotation is adding a key, making it primary, re-encrypting, and finally removing the old key.

Tink manages the keysets, makes keys and encrypts. Decryption of field values, the hot path of
every page that shows personal data, opens Tink's ciphertext format directly with the
``cryptography`` package's AES-GCM, using the key material of the same keyset (see
``Keyring.opener``): Tink's Python wrapper costs about twice the AES-GCM work on a short value.
"""

from __future__ import annotations

import enum
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tink
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from tink import aead, prf, secret_key_access
from tink.proto import aes_gcm_pb2, tink_pb2

aead.register()
prf.register()


class Kind(enum.Enum):
    AEAD = "aead"
    PRF = "prf"


KEYSETS = {
    "pii": Kind.AEAD,  # personal data in model fields
    "pii-index": Kind.PRF,  # blind indexes over personal data
    "pci": Kind.AEAD,  # card numbers; never mixed with personal data
    "pci-index": Kind.PRF,  # card fingerprints for de-duplication
}
TEMPLATES = {
    Kind.AEAD: aead.aead_key_templates.AES256_GCM,
    Kind.PRF: prf.prf_key_templates.HMAC_SHA256,
}
# A keyset file edited by the key command is picked up by running processes this fast.
RELOAD_CHECK_SECONDS = 1.0
# Tink's ciphertext prefix: one version byte, then the key id, big-endian.
PREFIX_LENGTH = 5
TINK_PREFIX_VERSION = b"\x01"
# After the prefix, Tink's AES-GCM ciphertext is a 12-byte IV, the ciphertext and a 16-byte tag.
GCM_IV_LENGTH = 12
GCM_TAG_LENGTH = 16
AES_GCM_KEY_TYPE = "type.googleapis.com/google.crypto.tink.AesGcmKey"


class KeyringError(ImproperlyConfigured):
    """A keyset is missing, unreadable or cannot be changed as asked."""


@dataclass(frozen=True)
class KeyInfo:
    key_id: int
    status: str
    primary: bool


def env_name(name: str) -> str:
    return "PORTAL_KEYSET_" + name.upper().replace("-", "_")


def key_id_of(ciphertext: bytes) -> int | None:
    """The id of the key that sealed a Tink ciphertext, or None if it carries no Tink prefix."""
    if len(ciphertext) < PREFIX_LENGTH or ciphertext[0] != 1:
        return None
    return int.from_bytes(ciphertext[1:PREFIX_LENGTH], "big")


def generate_keyset_json(name: str, *, master: aead.Aead | None = None) -> str:
    """A new keyset with one primary key, as the JSON the environment variables take."""
    handle = tink.new_keyset_handle(TEMPLATES[KEYSETS[name]])
    return _serialize(name, handle, master)


def _serialize(name: str, handle: tink.KeysetHandle, master: aead.Aead | None) -> str:
    if master is not None:
        return tink.json_proto_keyset_format.serialize_encrypted(
            handle, master, _wrapping_context(name)
        )
    return tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN)


def _wrapping_context(name: str) -> bytes:
    # Binds a wrapped keyset to its name, so the pci keyset cannot be passed off as pii.
    return f"portal keyset {name}".encode()


def _keyset_proto(handle: tink.KeysetHandle) -> tink_pb2.Keyset:
    return tink_pb2.Keyset.FromString(
        tink.proto_keyset_format.serialize(handle, secret_key_access.TOKEN)
    )


def _handle_from_proto(keyset: tink_pb2.Keyset) -> tink.KeysetHandle:
    return tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)


def _fast_opener(handle: tink.KeysetHandle, tink_aead: aead.Aead):
    """Decrypt Tink AES-GCM ciphertext with the keyset's own keys, without Tink's wrapper.

    Tink's format for a key with the TINK output prefix is: version byte 0x01, the key id
    (4 bytes, big-endian), the 12-byte IV, the ciphertext, the 16-byte tag; the associated
    data is not changed. Only enabled AES-GCM keys with that prefix are opened here, and only
    a ciphertext that authenticates under the key its prefix names is accepted: Tink accepts
    the same bytes. Everything else (a failed tag, an unknown or disabled key, another prefix
    type) goes to Tink's own ``decrypt``, so Tink alone decides every refusal.
    """
    keyset = _keyset_proto(handle)
    decrypt_by_prefix = {}
    for key in keyset.key:
        if (
            key.status != tink_pb2.ENABLED
            or key.output_prefix_type != tink_pb2.TINK
            or key.key_data.type_url != AES_GCM_KEY_TYPE
        ):
            continue
        material = aes_gcm_pb2.AesGcmKey.FromString(key.key_data.value)
        if material.version != 0 or len(material.key_value) not in (16, 32):
            continue
        prefix = TINK_PREFIX_VERSION + key.key_id.to_bytes(4, "big")
        decrypt_by_prefix[prefix] = AESGCM(material.key_value).decrypt

    body_start = PREFIX_LENGTH + GCM_IV_LENGTH
    shortest = body_start + GCM_TAG_LENGTH
    slow_decrypt = tink_aead.decrypt

    def open_ciphertext(ciphertext: bytes, associated_data: bytes) -> bytes:
        decrypt = decrypt_by_prefix.get(ciphertext[:PREFIX_LENGTH])
        if decrypt is not None and len(ciphertext) >= shortest:
            try:
                return decrypt(
                    ciphertext[PREFIX_LENGTH:body_start], ciphertext[body_start:], associated_data
                )
            except InvalidTag:
                pass
        return slow_decrypt(ciphertext, associated_data)

    return open_ciphertext


class _Loaded:
    def __init__(self, handle, source_path, mtime_ns):
        self.handle = handle
        self.source_path = source_path
        self.mtime_ns = mtime_ns
        self.recheck_at = time.monotonic() + RELOAD_CHECK_SECONDS
        self.primitive = None
        self.opener = None


class Keyring:
    """The portal's keysets, read once and cached; reread when their file changes."""

    def __init__(self, *, environ=None, directory=None, production=None):
        self.environ = os.environ if environ is None else environ
        self.directory = Path(directory or settings.PORTAL_KEYSET_DIR)
        self.production = settings.PRODUCTION if production is None else production
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()
        self._master = None
        self._master_read = False

    # --- Reading ----------------------------------------------------------------------

    def aead(self, name: str) -> aead.Aead:
        return self._primitive(name, Kind.AEAD, aead.Aead)

    def prf_set(self, name: str) -> prf.PrfSet:
        return self._primitive(name, Kind.PRF, prf.PrfSet)

    def opener(self, name: str):
        """``open(ciphertext, associated_data) -> plaintext`` for an AEAD keyset, built once.

        Accepts exactly what Tink's own ``decrypt`` accepts, faster; raises ``tink.TinkError``.
        """
        # Called once per value read: the common case is one dict lookup and one clock read.
        loaded = self._loaded.get(name)
        if (
            loaded is not None
            and loaded.opener is not None
            and (loaded.source_path is None or time.monotonic() < loaded.recheck_at)
        ):
            return loaded.opener

        loaded = self._get(name)
        opener = loaded.opener
        if opener is None:
            if KEYSETS.get(name) is not Kind.AEAD:
                raise KeyringError(f"keyset {name!r} is not an AEAD keyset")
            if loaded.primitive is None:
                loaded.primitive = loaded.handle.primitive(aead.Aead)
            opener = loaded.opener = _fast_opener(loaded.handle, loaded.primitive)
        return opener

    def primary_key_id(self, name: str) -> int:
        return self._get(name).handle.keyset_info().primary_key_id

    def keys(self, name: str) -> list[KeyInfo]:
        info = self._get(name).handle.keyset_info()
        return [
            KeyInfo(
                key_id=key.key_id,
                status=tink_pb2.KeyStatusType.Name(key.status),
                primary=key.key_id == info.primary_key_id,
            )
            for key in info.key_info
        ]

    def load_all(self) -> None:
        """Read every named keyset now, so a bad one fails at start-up and not mid-request."""
        for name in KEYSETS:
            self._get(name)

    def reload(self) -> None:
        with self._lock:
            self._loaded.clear()

    def _primitive(self, name, kind, primitive_class):
        if KEYSETS.get(name) is not kind:
            raise KeyringError(f"keyset {name!r} is not an {kind.value.upper()} keyset")
        loaded = self._get(name)
        if loaded.primitive is None:
            loaded.primitive = loaded.handle.primitive(primitive_class)
        return loaded.primitive

    def _get(self, name: str) -> _Loaded:
        loaded = self._loaded.get(name)
        if loaded is not None and not self._changed_on_disk(loaded):
            return loaded
        with self._lock:
            loaded = self._read(name)
            self._loaded[name] = loaded
            return loaded

    def _changed_on_disk(self, loaded: _Loaded) -> bool:
        if loaded.source_path is None:
            return False
        now = time.monotonic()
        if now < loaded.recheck_at:
            return False
        loaded.recheck_at = now + RELOAD_CHECK_SECONDS
        try:
            return loaded.source_path.stat().st_mtime_ns != loaded.mtime_ns
        except OSError:
            return False

    def _read(self, name: str) -> _Loaded:
        if name not in KEYSETS:
            raise KeyringError(f"unknown keyset {name!r}; known: {', '.join(KEYSETS)}")

        text, path = self._source_text(name)
        try:
            if self.master is not None:
                handle = tink.json_proto_keyset_format.parse_encrypted(
                    text, self.master, _wrapping_context(name)
                )
            else:
                handle = tink.json_proto_keyset_format.parse(text, secret_key_access.TOKEN)
        except tink.TinkError:
            # Tink's message may quote the input; the variable name is all an operator needs.
            raise KeyringError(
                f"keyset {name!r} from {self.describe_source(name)} is not a valid Tink keyset"
                + (" wrapped by the master keyset" if self.master is not None else "")
            ) from None

        key_types = {key.type_url for key in handle.keyset_info().key_info}
        expected = TEMPLATES[KEYSETS[name]].type_url
        if key_types != {expected}:
            raise KeyringError(
                f"keyset {name!r} must hold only {expected.rsplit('.', 1)[-1]} keys"
            )
        mtime = path.stat().st_mtime_ns if path else None
        return _Loaded(handle, path, mtime)

    def _source_text(self, name: str) -> tuple[str, Path | None]:
        variable = env_name(name)
        direct = self.environ.get(variable)
        file_path = self.environ.get(f"{variable}_FILE")
        if direct and file_path:
            raise KeyringError(f"Set either {variable} or {variable}_FILE, not both")
        if direct:
            return direct, None

        if file_path:
            path = Path(file_path)
        elif self.production:
            raise KeyringError(f"{variable} is required when PORTAL_ENV=production")
        else:
            path = self.directory / f"{name}.json"
            if not path.exists():
                self._write_new(path, generate_keyset_json(name, master=self.master))

        try:
            return path.read_text(encoding="utf-8"), path
        except OSError as error:
            raise KeyringError(
                f"{variable}_FILE={path} cannot be read: {error.strerror}"
            ) from None

    @property
    def master(self) -> aead.Aead | None:
        if not self._master_read:
            self._master = self._read_master()
            self._master_read = True
        return self._master

    def _read_master(self) -> aead.Aead | None:
        direct = self.environ.get("PORTAL_MASTER_KEYSET")
        file_path = self.environ.get("PORTAL_MASTER_KEYSET_FILE")
        if direct and file_path:
            raise KeyringError("Set either PORTAL_MASTER_KEYSET or PORTAL_MASTER_KEYSET_FILE")
        if not direct and not file_path:
            return None
        text = direct or Path(file_path).read_text(encoding="utf-8")
        try:
            handle = tink.json_proto_keyset_format.parse(text, secret_key_access.TOKEN)
            return handle.primitive(aead.Aead)
        except tink.TinkError:
            raise KeyringError("PORTAL_MASTER_KEYSET is not a valid Tink AEAD keyset") from None

    def describe_source(self, name: str) -> str:
        variable = env_name(name)
        if self.environ.get(variable):
            return variable
        if self.environ.get(f"{variable}_FILE"):
            return f"{variable}_FILE={self.environ[f'{variable}_FILE']}"
        return str(self.directory / f"{name}.json")

    # --- Changing (the key command) ------------------------------------------------------

    def writable_path(self, name: str) -> Path:
        """The file a changed keyset is written back to; inline keysets cannot be changed."""
        variable = env_name(name)
        if self.environ.get(variable):
            raise KeyringError(
                f"keyset {name!r} comes from {variable}; use --output to write the changed "
                "keyset to a file and put its content into your secret store"
            )
        if self.environ.get(f"{variable}_FILE"):
            return Path(self.environ[f"{variable}_FILE"])
        return self.directory / f"{name}.json"

    def add_key(self, name: str, *, make_primary: bool) -> tuple[int, str]:
        """Add a fresh key; return its id and the new keyset JSON (not yet stored)."""
        keyset = _keyset_proto(self._get(name).handle)
        new_key = _keyset_proto(tink.new_keyset_handle(TEMPLATES[KEYSETS[name]])).key[0]
        used = {key.key_id for key in keyset.key}
        while new_key.key_id in used:  # 32-bit ids: a clash is rare, but possible
            new_key = _keyset_proto(tink.new_keyset_handle(TEMPLATES[KEYSETS[name]])).key[0]
        keyset.key.append(new_key)
        if make_primary:
            keyset.primary_key_id = new_key.key_id
        return new_key.key_id, self._to_json(name, keyset)

    def promote_key(self, name: str, key_id: int) -> str:
        keyset = _keyset_proto(self._get(name).handle)
        key = self._find(name, keyset, key_id)
        if key.status != tink_pb2.ENABLED:
            raise KeyringError(f"key {key_id} of {name!r} is not enabled")
        keyset.primary_key_id = key_id
        return self._to_json(name, keyset)

    def remove_key(self, name: str, key_id: int) -> str:
        keyset = _keyset_proto(self._get(name).handle)
        self._find(name, keyset, key_id)
        if keyset.primary_key_id == key_id:
            raise KeyringError(f"key {key_id} is the primary key of {name!r}; promote another")
        kept = [key for key in keyset.key if key.key_id != key_id]
        del keyset.key[:]
        keyset.key.extend(kept)
        return self._to_json(name, keyset)

    def store(self, name: str, keyset_json: str, *, path: Path | None = None) -> Path:
        target = path or self.writable_path(name)
        self._write_new(target, keyset_json, replace=True)
        with self._lock:
            self._loaded.pop(name, None)
        return target

    def _find(self, name, keyset, key_id):
        for key in keyset.key:
            if key.key_id == key_id:
                return key
        raise KeyringError(f"keyset {name!r} has no key {key_id}")

    def _to_json(self, name: str, keyset: tink_pb2.Keyset) -> str:
        return _serialize(name, _handle_from_proto(keyset), self.master)

    @staticmethod
    def _write_new(path: Path, text: str, *, replace: bool = False) -> None:
        # Written beside the target and renamed, so a reader never sees half a keyset.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        if replace:
            partial.replace(path)
            return
        # A hard link fails if the name exists: when two processes generate a keyset at once,
        # the first one wins and every process ends up reading that one.
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()


_default: Keyring | None = None
_default_lock = threading.Lock()


def default_keyring() -> Keyring:
    global _default  # noqa: PLW0603 - one keyring per process, built on first use
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Keyring()
    return _default


@contextmanager
def use_keyring(keyring: Keyring):
    """Make another keyring the default for a while (tests, the key command)."""
    global _default  # noqa: PLW0603
    previous, _default = _default, keyring
    try:
        yield keyring
    finally:
        _default = previous


def get_aead(name: str) -> aead.Aead:
    return default_keyring().aead(name)


def get_prf_set(name: str) -> prf.PrfSet:
    return default_keyring().prf_set(name)
