"""Field case 5: a social login does not skip the second factor.

The stand-in provider is an OpenID Connect app configured on loopback. Its HTTP exchange (code
for tokens) plays no part in what is tested here, so each test hands allauth's OpenID Connect
provider the claims that exchange would have produced, at the point where the callback would:
the provider turns them into a social login, and allauth's own flow then looks the account up,
matches email addresses and runs the login stages exactly as after a real provider.
"""

import pytest
from allauth.core import context
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from tests.accounts.mfa_support import give_totp
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

STAND_IN = "standin"


@pytest.fixture(autouse=True)
def stand_in_provider(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": STAND_IN,
                    "name": "Stand-in identity provider",
                    "client_id": "portal",
                    "secret": "stand-in-secret",
                    "settings": {"server_url": "http://127.0.0.1:9/"},
                }
            ]
        }
    }
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True


@pytest.fixture
def tessa(db):
    """Tessa protects her account with an authenticator app."""
    user = make_person("tessa@example.com")
    give_totp(user)
    return user


def _callback(rf, *, uid, email, verified):
    """What the provider's callback hands to allauth, and the request it arrived on."""
    request = rf.get(f"/accounts/oidc/{STAND_IN}/login/callback/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    with context.request_context(request):
        provider = get_adapter().get_provider(request, STAND_IN)
        claims = {"sub": uid, "email": email, "email_verified": verified}
        sociallogin = provider.sociallogin_from_response(request, {"userinfo": claims})
        sociallogin.state = {"process": "login"}
        response = complete_social_login(request, sociallogin)
    return request, response


def test_a_linked_social_account_leads_to_the_code_step_not_a_session(rf, tessa):
    SocialAccount.objects.create(user=tessa, provider=STAND_IN, uid="tessa-1")

    request, response = _callback(rf, uid="tessa-1", email="tessa@example.com", verified=True)

    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in request.session


def test_an_account_matched_by_a_verified_email_must_first_be_proven(rf, tessa):
    # A matching address links nothing by itself: the person signs in to the existing account
    # (password, then the code step: tests/accounts/test_social_linking.py) and confirms.
    request, response = _callback(rf, uid="new-uid", email="tessa@example.com", verified=True)

    assert response.url.startswith(reverse("account_login"))
    assert "_auth_user_id" not in request.session
    assert not SocialAccount.objects.filter(user=tessa).exists()


def test_an_unverified_provider_email_never_links_to_an_existing_account(rf, tessa):
    request, _ = _callback(rf, uid="mallory-1", email="tessa@example.com", verified=False)

    assert request.session.get("_auth_user_id") != str(tessa.pk)
    assert not SocialAccount.objects.filter(user=tessa).exists()
