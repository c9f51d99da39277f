"""Case 26: redirect targets after login and sign-up stay on this site."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from apps.accounts.redirects import is_local_path
from apps.core.models import OutboundEmail
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

DEFAULT_PAGE = "/account/"
HOSTILE_TARGETS = [
    "//example.invalid",
    "https://example.invalid",
    "/\\example.invalid",
    "%2F%2Fexample.invalid",
    "javascript:alert(1)",
    "/%2F/example.invalid",
    "/%5Cexample.invalid",
    "\\\\example.invalid",
    "/\texample.invalid",
    "http:/example.invalid",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_login_with_a_hostile_next_lands_on_the_default_page(client, target):
    make_person("casey@example.com")

    response = client.post(
        f"{reverse('account_login')}?next={target}",
        {"login": "casey@example.com", "password": STRONG_PASSWORD, "next": target},
    )

    assert response.status_code == 302
    assert response["Location"] == DEFAULT_PAGE


def test_login_with_a_local_next_goes_there(client):
    make_person("casey@example.com")

    response = client.post(
        reverse("account_login"),
        {"login": "casey@example.com", "password": STRONG_PASSWORD, "next": "/account/?tab=1"},
    )

    assert response["Location"] == "/account/?tab=1"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_sign_up_then_confirmation_with_a_hostile_next_lands_on_the_default_page(client, target):
    client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": STRONG_PASSWORD,
         "password2": STRONG_PASSWORD, "next": target},
    )  # fmt: skip
    link = re.search(r"/accounts/confirm-email/[^\s]+/", OutboundEmail.objects.get().body_text)

    client.post(link.group(0))
    assert EmailAddress.objects.get(email="new@example.com").verified
    response = client.post(
        reverse("account_login"),
        {"login": "new@example.com", "password": STRONG_PASSWORD, "next": target},
    )

    assert response.status_code == 302
    assert response["Location"] == DEFAULT_PAGE


@pytest.mark.parametrize("target", [*HOSTILE_TARGETS, "", None, "account/", "/\x00evil"])
def test_only_plain_local_paths_count_as_safe(target):
    assert not is_local_path(target)


@pytest.mark.parametrize("target", ["/", "/account/", "/privacy/?a=b#c", "/a%20b/"])
def test_plain_local_paths_are_safe(target):
    assert is_local_path(target)
