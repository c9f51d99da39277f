"""Which account a social login may sign in to or link to, and what the provider's address proves.

The provider side is allauth's own generic OpenID Connect provider turning a userinfo answer
into a social login, exactly as it does after a real token exchange (that exchange is covered
end to end in tests/e2e/test_openid_round_trip.py); here the answer is written by the test, so
that it can claim any address, verified or not.

People: Casey, a customer with a verified address and a password; Mallory, an attacker with an
account of her own and a provider account that claims Casey's address.
"""

import time

import pytest
from allauth.core import context
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.social_adapter import PENDING_LINK_SESSION_KEY, park_social_login
from apps.siem.models import SecurityEvent
from config.identity import social_login_providers
from tests.accounts.mfa_support import give_totp, submit_code
from tests.conftest import make_person
from tests.support import STRONG_PASSWORD, force_login_verified

pytestmark = pytest.mark.django_db

PROVIDER_ID = "corp"


@pytest.fixture(autouse=True)
def corp_provider(settings):
    """A generic OpenID Connect provider; its server is never contacted by these tests."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": PROVIDER_ID,
                    "name": "Corp SSO",
                    "client_id": "portal",
                    "secret": "corp-secret",
                    "settings": {"server_url": "http://127.0.0.1:9/never-contacted"},
                }
            ]
        },
    }


@pytest.fixture
def mallory(db):
    """Mallory, who owns a portal account and controls a provider account of her choosing."""
    return make_person("mallory@example.com")


def provider_request(user=None):
    request = RequestFactory().get(f"/accounts/oidc/{PROVIDER_ID}/login/callback/")
    request.session = SessionStore()
    request.user = user or AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


def social_login(request, *, sub, email, verified):
    """What the provider makes of a userinfo answer after a token exchange."""
    provider = get_adapter().get_provider(request, PROVIDER_ID)
    sociallogin = provider.sociallogin_from_response(
        request, {"userinfo": {"sub": sub, "email": email, "email_verified": verified}}
    )
    sociallogin.state = {"process": "login"}
    return sociallogin


def arrive(*, sub, email, verified, user=None):
    """A browser coming back from the provider with this identity; returns (request, response)."""
    request = provider_request(user)
    with context.request_context(request):
        response = complete_social_login(
            request, social_login(request, sub=sub, email=email, verified=verified)
        )
    return request, response


def signed_in_user_id(request):
    return request.session.get("_auth_user_id")


# --- Signing in --------------------------------------------------------------------------


@pytest.mark.parametrize("claimed", ["casey@example.com", "CASEY@Example.COM"])
def test_an_unverified_provider_address_never_signs_in_to_or_links_the_matching_account(
    customer, claimed
):
    request, response = arrive(sub="mallory-1", email=claimed, verified=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert signed_in_user_id(request) is None
    assert PENDING_LINK_SESSION_KEY not in request.session
    assert not SocialAccount.objects.exists()
    refused = SecurityEvent.objects.get(event_type="auth.social.link_refused")
    assert refused.subject == f"user:{customer.pk}"


def test_a_verified_provider_address_is_parked_until_the_account_is_proven(customer):
    request, response = arrive(sub="casey-at-corp", email="casey@example.com", verified=True)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Faccount%2Fconnections%2Flink%2F"
    assert signed_in_user_id(request) is None
    assert PENDING_LINK_SESSION_KEY in request.session
    assert not SocialAccount.objects.exists()


def test_switching_on_allauths_email_authentication_does_not_bypass_the_rules(customer, settings):
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True

    unverified, _ = arrive(sub="mallory-1", email="casey@example.com", verified=False)
    verified, _ = arrive(sub="casey-at-corp", email="casey@example.com", verified=True)

    assert signed_in_user_id(unverified) is None
    assert signed_in_user_id(verified) is None
    assert PENDING_LINK_SESSION_KEY in verified.session
    assert not SocialAccount.objects.exists()


def test_a_linked_provider_account_signs_in_its_owner_whatever_address_it_now_claims(customer):
    SocialAccount.objects.create(user=customer, provider=PROVIDER_ID, uid="casey-at-corp")

    request, response = arrive(
        sub="casey-at-corp", email="someone.else@example.com", verified=True
    )

    assert response.status_code == 302
    assert signed_in_user_id(request) == str(customer.pk)
    login = SecurityEvent.objects.get(event_type="auth.login.success")
    assert login.details["method"] == f"social:{PROVIDER_ID}"


def test_the_same_subject_at_another_provider_is_a_different_identity(customer):
    SocialAccount.objects.create(user=customer, provider="github", uid="casey-at-corp")

    request, _ = arrive(sub="casey-at-corp", email="new.person@example.com", verified=True)

    assert signed_in_user_id(request) != str(customer.pk)
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user.email == "new.person@example.com"


def test_a_newcomer_with_an_unverified_address_gets_an_account_that_must_verify_it(db):
    request, response = arrive(sub="nina-1", email="nina@example.com", verified=False)

    nina = User.objects.get(email="nina@example.com")
    assert SocialAccount.objects.get(user=nina).uid == "nina-1"
    assert signed_in_user_id(request) is None
    assert response["Location"] == reverse("account_email_verification_sent")


# --- The second factor (field case 5) ----------------------------------------------------


@pytest.fixture
def tessa(db):
    """Tessa, who protects her account with an authenticator app."""
    return make_person("tessa@example.com")


def continue_in(client, request):
    """Carry on, in a test client, the browser session the provider callback left behind."""
    request.session.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = request.session.session_key


def test_a_linked_social_login_stops_at_the_code_step_until_the_code_is_given(client, tessa):
    app = give_totp(tessa)
    SocialAccount.objects.create(user=tessa, provider=PROVIDER_ID, uid="tessa-at-corp")

    request, response = arrive(sub="tessa-at-corp", email="tessa@example.com", verified=True)

    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user_id(request) is None
    continue_in(client, request)
    assert client.get(reverse("account_overview")).status_code == 302

    submit_code(client, app.now())

    assert client.session["_auth_user_id"] == str(tessa.pk)
    login = SecurityEvent.objects.get(event_type="auth.login.success")
    assert login.details["method"] == f"social:{PROVIDER_ID}"


def test_an_email_matched_social_login_needs_the_password_and_the_code_before_linking(
    client, tessa
):
    app = give_totp(tessa)
    request, _ = arrive(sub="tessa-at-corp", email="tessa@example.com", verified=True)
    continue_in(client, request)

    # The login page the parked login sent her to carries where to go afterwards.
    after_password = password_login(client, tessa.email, next=reverse("social_link_confirm"))

    assert after_password["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("social_link_confirm")).status_code == 302
    assert client.post(reverse("social_link_confirm")).status_code == 302
    assert not SocialAccount.objects.exists()

    after_code = submit_code(client, app.now())
    assert after_code["Location"] == reverse("social_link_confirm")
    client.post(reverse("social_link_confirm"))

    assert SocialAccount.objects.get().user == tessa


def test_an_unverified_address_never_links_to_a_second_factor_account_either(client, tessa):
    give_totp(tessa)

    request, response = arrive(sub="mallory-1", email="tessa@example.com", verified=False)

    assert response["Location"] == reverse("account_login")
    assert PENDING_LINK_SESSION_KEY not in request.session
    assert not SocialAccount.objects.exists()


# --- Finishing a parked link -------------------------------------------------------------


def park(client, *, email, sub="casey-at-corp", at=None):
    request = provider_request()
    with context.request_context(request):
        park_social_login(request, social_login(request, sub=sub, email=email, verified=True))
    session = client.session
    session[PENDING_LINK_SESSION_KEY] = {
        **request.session[PENDING_LINK_SESSION_KEY],
        "at": at if at is not None else time.time(),
    }
    session.save()


def password_login(client, email, **extra):
    response = client.post(
        reverse("account_login"), {"login": email, "password": STRONG_PASSWORD, **extra}
    )
    assert response.status_code == 302
    return response


def test_casey_links_the_provider_after_signing_in_with_her_password(client, customer):
    park(client, email="casey@example.com")
    password_login(client, customer.email)

    assert client.get(reverse("social_link_confirm")).status_code == 200
    response = client.post(reverse("social_link_confirm"))

    assert response["Location"] == reverse("socialaccount_connections")
    linked = SocialAccount.objects.get()
    assert (linked.user, linked.provider, linked.uid) == (customer, PROVIDER_ID, "casey-at-corp")
    event = SecurityEvent.objects.get(event_type="auth.social.linked")
    assert event.details == {"provider": PROVIDER_ID, "uid": "casey-at-corp"}


def test_a_session_without_a_recent_password_is_asked_for_it_before_linking(client, customer):
    park(client, email="casey@example.com")
    client.force_login(customer)

    response = client.get(reverse("social_link_confirm"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert client.post(reverse("social_link_confirm")).status_code == 302
    assert not SocialAccount.objects.exists()


def test_mallory_cannot_link_a_login_that_claims_caseys_address_to_her_own_account(
    client, customer, mallory
):
    park(client, email="casey@example.com", sub="mallory-at-corp")
    password_login(client, mallory.email)

    client.post(reverse("social_link_confirm"))

    assert not SocialAccount.objects.exists()
    assert not SecurityEvent.objects.filter(event_type="auth.social.linked").exists()


def test_a_parked_login_goes_stale(client, customer):
    park(client, email="casey@example.com", at=time.time() - 3600)
    password_login(client, customer.email)

    client.post(reverse("social_link_confirm"))

    assert not SocialAccount.objects.exists()


# --- Connections page --------------------------------------------------------------------


def test_casey_disconnects_a_provider_and_the_event_is_recorded(client, customer):
    account = SocialAccount.objects.create(user=customer, provider=PROVIDER_ID, uid="c-1")
    password_login(client, customer.email)
    page = client.get(reverse("socialaccount_connections"))
    assert b"Corp SSO" in page.content

    # Disconnecting is a sensitive change: the password is asked for again first.
    asked = client.post(reverse("socialaccount_connections"), {"account": account.pk})
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    assert SocialAccount.objects.exists()
    client.post(reverse("account_reauthenticate"), {"password": STRONG_PASSWORD})
    client.post(reverse("socialaccount_connections"), {"account": account.pk})

    assert not SocialAccount.objects.exists()
    event = SecurityEvent.objects.get(event_type="auth.social.unlinked")
    assert event.details == {"provider": PROVIDER_ID, "uid": "c-1"}


def test_the_last_way_to_sign_in_cannot_be_disconnected(client, db):
    sam = make_person("sam@example.com", password=None)
    account = SocialAccount.objects.create(user=sam, provider=PROVIDER_ID, uid="sam-1")
    client.force_login(sam)

    client.post(reverse("socialaccount_connections"), {"account": account.pk})

    assert SocialAccount.objects.filter(pk=account.pk).exists()


# --- Which providers appear --------------------------------------------------------------


def test_only_configured_providers_appear_on_the_login_page(client, settings):
    page = client.get(reverse("account_login")).content.decode()

    assert "Corp SSO" in page
    for unconfigured in ["Google", "Facebook", "GitHub"]:
        assert unconfigured not in page

    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "github": {"APPS": [{"client_id": "gh", "secret": "gh-secret", "key": ""}]},
    }
    assert "GitHub" in client.get(reverse("account_login")).content.decode()


def test_providers_are_built_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOCIAL_GOOGLE_CLIENT_ID", "google-client")
    monkeypatch.setenv("SOCIAL_GOOGLE_SECRET", "google-secret")
    monkeypatch.setenv("SOCIAL_OIDC_PROVIDERS", "corp")
    monkeypatch.setenv("SOCIAL_OIDC_CORP_CLIENT_ID", "portal")
    monkeypatch.setenv("SOCIAL_OIDC_CORP_SECRET", "corp-secret")
    monkeypatch.setenv("SOCIAL_OIDC_CORP_SERVER_URL", "https://sso.corp.invalid")
    monkeypatch.setenv("SOCIAL_OIDC_CORP_NAME", "Corp SSO")

    providers = social_login_providers(production=True)

    assert providers["google"]["APPS"][0]["client_id"] == "google-client"
    assert providers["google"]["SCOPE"] == ["openid", "profile", "email"]
    assert providers["github"]["APPS"] == []
    assert providers["facebook"]["APPS"] == []
    corp = providers["openid_connect"]["APPS"][0]
    assert (corp["provider_id"], corp["name"]) == ("corp", "Corp SSO")
    assert corp["settings"]["server_url"] == "https://sso.corp.invalid"


@pytest.mark.parametrize(
    "env",
    [
        {"SOCIAL_GITHUB_CLIENT_ID": "only-an-id"},
        {"SOCIAL_OIDC_PROVIDERS": "corp", "SOCIAL_OIDC_CORP_CLIENT_ID": "portal"},
        {"SOCIAL_OIDC_PROVIDERS": "Corp SSO!"},
        {
            "SOCIAL_OIDC_PROVIDERS": "corp",
            "SOCIAL_OIDC_CORP_CLIENT_ID": "portal",
            "SOCIAL_OIDC_CORP_SECRET": "corp-secret",
            "SOCIAL_OIDC_CORP_SERVER_URL": "http://sso.corp.invalid",
        },
    ],
)
def test_an_incomplete_or_unsafe_provider_configuration_is_refused(monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured):
        social_login_providers(production=True)


def test_the_security_page_leads_to_the_connected_accounts(client, customer):
    force_login_verified(client, customer)

    page = client.get(reverse("mfa_security")).content.decode()

    assert f'href="{reverse("socialaccount_connections")}"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/github/login/",
        "/accounts/google/login/callback/?code=x&state=y",
        "/accounts/facebook/login/",
    ],
)
def test_a_provider_nobody_configured_is_a_404_not_a_500(client, db, path):
    response = client.get(path)

    assert response.status_code == 404
    assert client.get("/accounts/login/").status_code == 200
