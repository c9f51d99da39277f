"""The production mode refuses to start without its secrets and passes Django's deploy check."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apps.core.crypto.keyring import KEYSETS, env_name, generate_keyset_json

REPO_ROOT = Path(__file__).resolve().parents[2]


def private_key_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


OIDC_KEY = private_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "x" * 20 + "a-real-deployment-would-use-a-random-value-here-1234567890",
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    # Real keysets, freshly generated: production parses every one of them at start-up.
    **{env_name(name): generate_keyset_json(name) for name in KEYSETS},
    "OIDC_RSA_PRIVATE_KEY": OIDC_KEY,
}


def run_manage(*args, env):
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    clean.pop("DEBUG", None)
    # Set by the browser tests for Playwright's event loop; the deploy check warns about it.
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        check=False,
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_deploy_check_reports_nothing():
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    # Silenced checks are deliberate and each is explained beside SILENCED_SYSTEM_CHECKS.
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_each_required_setting():
    required = ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"]
    for missing in [
        *required,
        "PORTAL_KEYSET_PII",
        "PORTAL_KEYSET_PCI_INDEX",
        "OIDC_RSA_PRIVATE_KEY",
    ]:
        env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}

        result = run_manage("check", env=env)

        assert result.returncode != 0, f"started without {missing}"
        assert f"{missing} is required when PORTAL_ENV=production" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": "short"})

    assert result.returncode != 0
    assert "SECRET_KEY must be a random value" in result.stderr


def test_the_secret_key_can_be_read_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(PRODUCTION_ENV["SECRET_KEY"] + "\n")
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}

    result = run_manage("check", "--deploy", env={**env, "SECRET_KEY_FILE": str(key_file)})

    assert result.returncode == 0, result.stderr


def test_a_malformed_number_is_refused_at_start_up():
    result = run_manage("check", env={"PORTAL_TRUSTED_PROXY_COUNT": "one"})

    assert result.returncode != 0
    assert "PORTAL_TRUSTED_PROXY_COUNT must be a whole number" in result.stderr


def test_production_refuses_a_keyset_that_is_not_one():
    result = run_manage("check", env={**PRODUCTION_ENV, "PORTAL_KEYSET_PII": '{"key": []}'})

    assert result.returncode != 0
    assert "keyset 'pii' from PORTAL_KEYSET_PII is not a valid Tink keyset" in result.stderr


def test_production_refuses_the_card_keyset_in_place_of_the_index_keyset():
    env = {**PRODUCTION_ENV, "PORTAL_KEYSET_PII_INDEX": PRODUCTION_ENV["PORTAL_KEYSET_PCI"]}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "keyset 'pii-index' must hold only HmacPrfKey keys" in result.stderr


def test_the_oidc_signing_key_can_be_read_from_a_file(tmp_path):
    key_file = tmp_path / "oidc.pem"
    key_file.write_text(OIDC_KEY)
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "OIDC_RSA_PRIVATE_KEY"}

    result = run_manage("check", env={**env, "OIDC_RSA_PRIVATE_KEY_FILE": str(key_file)})

    assert result.returncode == 0, result.stderr


def test_an_oidc_signing_key_that_is_not_a_strong_rsa_key_is_refused():
    weak_keys = {
        "not a key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----",
        "elliptic": private_key_pem(ec.generate_private_key(ec.SECP256R1())),
        # The weak key under test.
        "short": private_key_pem(rsa.generate_private_key(65537, key_size=1024)),  # noqa: S505
    }
    for name, pem in weak_keys.items():
        result = run_manage("check", env={**PRODUCTION_ENV, "OIDC_RSA_PRIVATE_KEY": pem})

        assert result.returncode != 0, f"started with a {name} key"
        assert "OIDC_RSA_PRIVATE_KEY" in result.stderr
        # The refusal names the setting, never its value.
        assert "nope" not in result.stderr


def test_development_generates_an_oidc_signing_key_once_and_keeps_it(tmp_path):
    env = {"PORTAL_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}

    assert run_manage("check", env=env).returncode == 0
    first = (tmp_path / "oidc-rsa.pem").read_text()
    assert run_manage("check", env=env).returncode == 0

    assert (tmp_path / "oidc-rsa.pem").read_text() == first
    assert (tmp_path / "oidc-rsa.pem").stat().st_mode & 0o077 == 0
