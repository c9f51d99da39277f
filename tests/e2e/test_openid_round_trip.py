"""Signing in through an OpenID Connect provider, end to end, with nothing mocked.

The portal plays both parts on one loopback live server: as ``http://localhost:<port>/o`` it
is the identity provider, and as ``http://127.0.0.1:<port>`` it is the site that signs people
in with that provider (allauth's generic openid_connect client, which fetches the discovery
document, exchanges the code and checks the ID token over real HTTP). The two host names
give the browser two separate sessions, as two sites would have.

People: Uma, who has an account at the provider and, with the same verified address, at the
site; Pat's partner application, a client the test drives itself with oauthlib and PyJWT.
"""

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.db import connection
from oauth2_provider.models import Application
from oauthlib.oauth2 import WebApplicationClient

from apps.siem.models import SecurityEvent
from tests.accounts.mfa_support import give_backup_codes, give_totp
from tests.conftest import make_person
from tests.support import REQUIRE_SERVICES, STRONG_PASSWORD, skip_or_fail

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROVIDER_ID = "portal-idp"
PROVIDER_NAME = "Portal IdP"
CLIENT_SECRET = "upstream-secret-" + "u" * 40


@pytest.fixture
def sites(live_server):
    """The provider's and the signing-in site's base URLs on the same loopback server."""
    if connection.vendor == "sqlite":
        # The callback request holds SQLite's single write lock while allauth calls the token
        # endpoint on the same server, which then waits for that lock until it times out.
        skip_or_fail("the one-server OIDC round trip needs PostgreSQL", REQUIRE_SERVICES)
    port = urlsplit(live_server.url).port
    return {"provider": f"http://localhost:{port}", "site": f"http://127.0.0.1:{port}"}


@pytest.fixture
def upstream(sites, settings):
    """The portal's provider registered as the site's generic OpenID Connect provider."""
    application = Application.objects.create(
        name="The portal, signing in with itself",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{sites['site']}/accounts/oidc/{PROVIDER_ID}/login/callback/",
        client_secret=CLIENT_SECRET,
        algorithm=Application.RS256_ALGORITHM,
    )
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": PROVIDER_ID,
                    "name": PROVIDER_NAME,
                    "client_id": application.client_id,
                    "secret": CLIENT_SECRET,
                    # Loopback only: the live server started by this test.
                    "settings": {"server_url": f"{sites['provider']}/o"},
                }
            ],
        },
    }
    return application


@pytest.fixture
def uma(transactional_db):
    """Uma, with a verified address, known to the provider and (the same row) to the site."""
    return make_person("uma@example.com")


def sign_in_with_the_provider(page, sites, *, code=None):
    """Uma picks the provider on the site's login page and signs in to it with her password."""
    page.goto(f"{sites['site']}/accounts/login/")
    page.get_by_role("link", name=PROVIDER_NAME).click()
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{sites['provider']}/accounts/login/**")
    page.get_by_label("Email").fill("uma@example.com")
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if code is not None:
        page.wait_for_url(f"{sites['provider']}/accounts/2fa/authenticate/")
        page.get_by_label("Code").fill(code)
        page.get_by_test_id("mfa-submit").click()

    page.wait_for_url(f"{sites['provider']}/o/authorize/**")
    page.get_by_test_id("consent-allow").click()


def test_uma_signs_in_to_the_site_through_the_portals_own_openid_provider(
    page, sites, upstream, uma
):
    SocialAccount.objects.create(user=uma, provider=PROVIDER_ID, uid=str(uma.pk))

    sign_in_with_the_provider(page, sites)

    page.wait_for_url(f"{sites['site']}/account/")
    assert page.get_by_test_id("account-email").inner_text() == "uma@example.com"
    login = SecurityEvent.objects.filter(event_type="auth.login.success").latest("occurred_at")
    assert login.details["method"] == f"social:{PROVIDER_ID}"
    assert login.actor == f"user:{uma.pk}"


def test_a_linked_social_login_still_asks_uma_for_her_second_factor_on_the_site(
    page, sites, upstream, uma
):
    app = give_totp(uma)
    backup_codes = give_backup_codes(uma)
    SocialAccount.objects.create(user=uma, provider=PROVIDER_ID, uid=str(uma.pk))

    # The provider asks for her code as part of its own sign-in...
    sign_in_with_the_provider(page, sites, code=app.now())

    # ...and the site asks again: the provider's say-so never replaces the site's second factor.
    page.wait_for_url(f"{sites['site']}/accounts/2fa/authenticate/")
    page.goto(f"{sites['site']}/account/")
    assert page.url == f"{sites['site']}/accounts/2fa/authenticate/"
    page.get_by_label("Code").fill(backup_codes[0])
    page.get_by_test_id("mfa-submit").click()

    page.wait_for_url(f"{sites['site']}/account/")
    assert page.get_by_test_id("account-email").inner_text() == "uma@example.com"


def test_a_verified_address_links_only_after_uma_signs_in_to_her_site_account(
    page, sites, upstream, uma
):
    sign_in_with_the_provider(page, sites)

    # Back on the site, the provider's word about the address is not enough by itself.
    page.wait_for_url(f"{sites['site']}/accounts/login/**")
    assert not SocialAccount.objects.exists()
    assert page.get_by_text("Sign in to it to link").is_visible()

    page.get_by_label("Email").fill("uma@example.com")
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{sites['site']}/account/connections/link/")
    page.get_by_test_id("confirm-link").click()

    page.wait_for_url(f"{sites['site']}/accounts/3rdparty/")
    linked = SocialAccount.objects.get()
    assert (linked.user, linked.provider, linked.uid) == (uma, PROVIDER_ID, str(uma.pk))
    assert SecurityEvent.objects.filter(event_type="auth.social.linked").exists()


def test_a_partner_client_gets_an_id_token_that_verifies_against_the_published_jwks(
    page, live_server, uma
):
    # Pat's partner application lands on a page of the live server: the browser only has to
    # carry the code there, and the test reads it from the address bar.
    redirect_uri = f"{live_server.url}/healthz"
    application = Application.objects.create(
        name="Pat's Partner Shop",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        client_secret=CLIENT_SECRET,
        algorithm=Application.RS256_ALGORITHM,
    )
    discovery = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=10)
    metadata = discovery.json()
    oauth = WebApplicationClient(application.client_id)
    challenge = oauth.create_code_challenge(oauth.create_code_verifier(64), "S256")

    authorize = requests.Request(
        "GET",
        metadata["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email",
            "state": "state-789",
            "nonce": "nonce-789",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    ).prepare()
    page.goto(authorize.url)
    page.get_by_label("Email").fill("uma@example.com")
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_test_id("consent-allow").click()
    page.wait_for_url(f"{redirect_uri}?**")
    answer = parse_qs(urlsplit(page.url).query)
    assert answer["state"] == ["state-789"]
    assert answer["iss"] == [metadata["issuer"]]

    token_response = requests.post(
        metadata["token_endpoint"],
        data=oauth.prepare_request_body(
            code=answer["code"][0],
            redirect_uri=redirect_uri,
            code_verifier=oauth.code_verifier,
            client_secret=CLIENT_SECRET,
            include_client_id=True,
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert token_response.status_code == 200, token_response.text
    id_token = token_response.json()["id_token"]

    signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(
        id_token,
        signing_key.key,
        algorithms=["RS256"],
        audience=application.client_id,
        issuer=metadata["issuer"],
    )
    assert claims["sub"] == str(uma.pk)
    assert claims["email"] == "uma@example.com"
    assert claims["email_verified"] is True
    assert claims["nonce"] == "nonce-789"
