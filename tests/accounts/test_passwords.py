import argon2
import pytest
from argon2 import extract_parameters
from argon2.low_level import Type
from django.contrib.auth.hashers import Argon2PasswordHasher

from apps.accounts.models import User
from tests.accounts.mfa_support import signed_in_user_id, submit_password
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def _parameters(user):
    algorithm, encoded = user.password.split("$", 1)
    assert algorithm == "argon2"
    return extract_parameters("$" + encoded)


def test_new_passwords_are_hashed_with_argon2id_above_owasp_minimum():
    user = User.objects.create_user("casey@example.com", STRONG_PASSWORD)

    parameters = _parameters(user)
    assert parameters.type is Type.ID
    # OWASP's minimum is 19 MiB with 2 passes; the portal uses Django's own cost above it.
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (
        100 * 1024,
        2,
        8,
    )
    assert user.check_password(STRONG_PASSWORD)


def test_a_hash_made_at_the_earlier_cost_is_upgraded_when_its_owner_logs_in(client):
    user = make_person("early@example.com")
    earlier = argon2.PasswordHasher(
        time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID
    ).hash(STRONG_PASSWORD)
    User.objects.filter(pk=user.pk).update(password="argon2" + earlier)

    response = submit_password(client, "early@example.com")

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
    user.refresh_from_db()
    assert user.password != "argon2" + earlier
    assert _parameters(user).memory_cost == 100 * 1024
    assert user.check_password(STRONG_PASSWORD)


def test_a_wrong_password_leaves_an_earlier_hash_alone(client):
    user = make_person("early@example.com")
    earlier = "argon2" + argon2.PasswordHasher(
        time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID
    ).hash(STRONG_PASSWORD)
    User.objects.filter(pk=user.pk).update(password=earlier)

    submit_password(client, "early@example.com", password="not the password at all")

    user.refresh_from_db()
    assert user.password == earlier
    assert signed_in_user_id(client) is None


def test_a_short_password_is_refused_at_sign_up(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "Sh0rt!pass", "password2": "Sh0rt!pass"},
    )

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.exists()


@pytest.fixture
def hashes(monkeypatch):
    """Counts Argon2 hashes computed (verifications and the dummy hash for unknown accounts)."""
    computed = []
    for method in ("encode", "verify"):
        original = getattr(Argon2PasswordHasher, method)

        def counted(self, *args, _original=original, **kwargs):
            computed.append(self)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Argon2PasswordHasher, method, counted)
    return computed


@pytest.mark.parametrize(
    ("address", "password"),
    [
        ("known@example.com", STRONG_PASSWORD),
        ("known@example.com", "not the password at all"),
        ("nobody@example.com", "not the password at all"),
    ],
    ids=["right password", "wrong password", "unknown address"],
)
def test_a_login_attempt_costs_one_hash_whether_or_not_the_account_exists(
    client, hashes, address, password
):
    make_person("known@example.com")
    hashes.clear()

    submit_password(client, address, password=password)

    assert len(hashes) == 1
