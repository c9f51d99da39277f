import pytest
from argon2 import extract_parameters
from argon2.low_level import Type

from apps.accounts.models import User
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def test_new_passwords_are_hashed_with_argon2id_at_owasp_parameters():
    user = User.objects.create_user("casey@example.com", STRONG_PASSWORD)

    algorithm, encoded = user.password.split("$", 1)
    parameters = extract_parameters("$" + encoded)

    assert algorithm == "argon2"
    assert parameters.type is Type.ID
    assert parameters.memory_cost >= 19 * 1024
    assert parameters.time_cost >= 2
    assert parameters.parallelism == 1
    assert user.check_password(STRONG_PASSWORD)


def test_a_short_password_is_refused_at_sign_up(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "Sh0rt!pass", "password2": "Sh0rt!pass"},
    )

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.exists()
