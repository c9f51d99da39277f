"""Keysets come from the environment, a file, or (in development only) are generated."""

import stat

import pytest
import tink
from tink import aead, secret_key_access

from apps.core.crypto.keyring import Keyring, KeyringError, generate_keyset_json, key_id_of


def master_keyset():
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    return tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN)


def test_development_generates_each_keyset_once_and_keeps_it_private(tmp_path):
    first = Keyring(environ={}, directory=tmp_path, production=False)
    ciphertext = first.aead("pii").encrypt(b"hello", b"context")

    again = Keyring(environ={}, directory=tmp_path, production=False)

    assert again.aead("pii").decrypt(ciphertext, b"context") == b"hello"
    assert stat.S_IMODE((tmp_path / "pii.json").stat().st_mode) == 0o600


def test_production_refuses_to_generate_a_missing_keyset(tmp_path):
    keyring = Keyring(environ={}, directory=tmp_path, production=True)

    with pytest.raises(KeyringError, match="PORTAL_KEYSET_PII_INDEX is required"):
        keyring.prf_set("pii-index")
    assert not list(tmp_path.iterdir())


def test_a_keyset_is_read_from_the_environment_or_a_file(tmp_path):
    keyset_file = tmp_path / "pci.json"
    keyset_file.write_text(generate_keyset_json("pci"))
    environ = {
        "PORTAL_KEYSET_PII": generate_keyset_json("pii"),
        "PORTAL_KEYSET_PCI_FILE": str(keyset_file),
    }
    keyring = Keyring(environ=environ, directory=tmp_path / "unused", production=True)

    assert keyring.aead("pii").decrypt(keyring.aead("pii").encrypt(b"a", b""), b"") == b"a"
    assert keyring.aead("pci").decrypt(keyring.aead("pci").encrypt(b"b", b""), b"") == b"b"


def test_both_the_variable_and_its_file_is_refused(tmp_path):
    environ = {"PORTAL_KEYSET_PII": "{}", "PORTAL_KEYSET_PII_FILE": str(tmp_path / "x")}

    with pytest.raises(KeyringError, match="not both"):
        Keyring(environ=environ, directory=tmp_path, production=True).aead("pii")


def test_a_keyset_of_the_wrong_kind_is_refused(tmp_path):
    environ = {"PORTAL_KEYSET_PII": generate_keyset_json("pii-index")}

    with pytest.raises(KeyringError, match="must hold only AesGcmKey keys"):
        Keyring(environ=environ, directory=tmp_path, production=True).aead("pii")


def test_garbage_is_refused_without_echoing_it(tmp_path):
    environ = {"PORTAL_KEYSET_PII": '{"secret": "hunter2"}'}

    with pytest.raises(KeyringError, match="not a valid Tink keyset") as raised:
        Keyring(environ=environ, directory=tmp_path, production=True).aead("pii")
    assert "hunter2" not in str(raised.value)


def test_a_wrapped_keyset_opens_only_with_the_master_key_and_under_its_own_name(tmp_path):
    master_json = master_keyset()
    master = tink.json_proto_keyset_format.parse(master_json, secret_key_access.TOKEN)
    wrapped = generate_keyset_json("pii", master=master.primitive(aead.Aead))

    with_master = Keyring(
        environ={"PORTAL_MASTER_KEYSET": master_json, "PORTAL_KEYSET_PII": wrapped},
        directory=tmp_path,
        production=True,
    )
    without_master = Keyring(
        environ={"PORTAL_KEYSET_PII": wrapped}, directory=tmp_path, production=True
    )
    passed_off_as_pci = Keyring(
        environ={"PORTAL_MASTER_KEYSET": master_json, "PORTAL_KEYSET_PCI": wrapped},
        directory=tmp_path,
        production=True,
    )

    assert with_master.aead("pii").encrypt(b"x", b"")
    with pytest.raises(KeyringError):
        without_master.aead("pii")
    with pytest.raises(KeyringError, match="wrapped by the master keyset"):
        passed_off_as_pci.aead("pci")


def test_a_new_primary_key_encrypts_while_the_old_one_still_decrypts(tmp_path):
    keyring = Keyring(environ={}, directory=tmp_path, production=False)
    old_id = keyring.primary_key_id("pii")
    old_ciphertext = keyring.aead("pii").encrypt(b"before", b"")

    new_id, keyset_json = keyring.add_key("pii", make_primary=True)
    keyring.store("pii", keyset_json)

    assert keyring.primary_key_id("pii") == new_id != old_id
    assert key_id_of(keyring.aead("pii").encrypt(b"after", b"")) == new_id
    assert keyring.aead("pii").decrypt(old_ciphertext, b"") == b"before"
    assert [(key.key_id, key.primary) for key in keyring.keys("pii")] == [
        (old_id, False),
        (new_id, True),
    ]


def test_the_primary_key_cannot_be_removed(tmp_path):
    keyring = Keyring(environ={}, directory=tmp_path, production=False)

    with pytest.raises(KeyringError, match="is the primary key"):
        keyring.remove_key("pii", keyring.primary_key_id("pii"))


def test_a_keyset_given_inline_cannot_be_rewritten_in_place(tmp_path):
    keyring = Keyring(
        environ={"PORTAL_KEYSET_PII": generate_keyset_json("pii")},
        directory=tmp_path,
        production=True,
    )

    with pytest.raises(KeyringError, match="use --output"):
        keyring.writable_path("pii")
