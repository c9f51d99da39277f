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
    earlier = _earlier_hash()
    User.objects.filter(pk=user.pk).update(password=earlier)

    response = submit_password(client, "early@example.com")

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
    user.refresh_from_db()
    assert user.password != earlier
    assert _parameters(user).memory_cost == 100 * 1024
    assert user.check_password(STRONG_PASSWORD)


def test_a_wrong_password_leaves_an_earlier_hash_alone(client):
    user = make_person("early@example.com")
    earlier = _earlier_hash()
    User.objects.filter(pk=user.pk).update(password=earlier)

    submit_password(client, "early@example.com", password="not the password at all")

    user.refresh_from_db()
    assert user.password == earlier
    assert signed_in_user_id(client) is None


def test_a_password_longer_than_any_login_accepts_is_refused_at_sign_up(client):
    too_long = "correct horse battery staple " * 142  # 4,118 characters

    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": too_long, "password2": too_long},
    )

    assert response.status_code == 200
    assert "at most 4096 characters" in response.content.decode()
    assert not User.objects.exists()


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


def _earlier_hash() -> str:
    hasher = argon2.PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
    return "argon2" + hasher.hash(STRONG_PASSWORD)


@pytest.fixture
def argon2_memory_spent(monkeypatch):
    """The memory cost of every Argon2 hash computed from scratch (not the verifications)."""
    spent = []
    original = argon2.low_level.hash_secret

    def recorded(*args, **kwargs):
        spent.append(kwargs["memory_cost"])
        return original(*args, **kwargs)

    monkeypatch.setattr(argon2.low_level, "hash_secret", recorded)
    return spent


def test_a_wrong_password_costs_the_same_memory_on_an_earlier_hash_as_for_an_unknown_address(
    client, argon2_memory_spent
):
    earlier, current = make_person("early@example.com"), make_person("current@example.com")
    User.objects.filter(pk=earlier.pk).update(password=_earlier_hash())

    argon2_memory_spent.clear()
    submit_password(client, "nobody@example.com", password="not the password at all")
    # An unknown address is hashed once at the current cost.
    assert argon2_memory_spent == [100 * 1024]

    argon2_memory_spent.clear()
    submit_password(client, "early@example.com", password="not the password at all")
    # The 19 MiB verification, then the 81 MiB it did not spend, at the same passes.
    assert argon2_memory_spent == [100 * 1024 - 19 * 1024]

    argon2_memory_spent.clear()
    submit_password(client, "current@example.com", password="not the password at all")
    # A hash at the current cost needs nothing more than its verification.
    assert argon2_memory_spent == []
    assert current.password == User.objects.get(pk=current.pk).password


def test_a_password_longer_than_any_way_in_accepts_is_refused_unhashed(client, hashes):
    make_person("long@example.com")
    hashes.clear()

    response = submit_password(client, "long@example.com", password="x" * 4097)

    assert response.status_code == 200
    assert "at most 4096 characters" in response.content.decode()
    assert hashes == []
    assert signed_in_user_id(client) is None
