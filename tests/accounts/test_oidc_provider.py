"""The portal as an OpenID Connect provider, driven by an independent OAuth2 client (oauthlib).

People: Casey, a customer who signs in to a partner's site through the portal; Pat's partner
application, registered by staff for the authorization code flow; an attacker who edits the
authorization request.
"""

import json
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from oauth2_provider.models import AccessToken, Application, RefreshToken
from oauthlib.oauth2 import WebApplicationClient

from apps.siem.models import SecurityEvent
from tests.support import force_login_verified

REDIRECT_URI = "https://partner.invalid/signed-in"
CLIENT_SECRET = "partner-secret-" + "s" * 40
ISSUER = "http://testserver/o"


@pytest.fixture
def partner_app(db):
    """Pat's partner application: confidential, authorization code, RS256 ID tokens."""
    return Application.objects.create(
        name="Pat's Partner Shop",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        client_secret=CLIENT_SECRET,
        algorithm=Application.RS256_ALGORITHM,
    )


def oauth_client(app) -> WebApplicationClient:
    client = WebApplicationClient(app.client_id)
    client.create_code_challenge(client.create_code_verifier(64), "S256")
    return client


def authorization_url(client, **overrides) -> str:
    params = {
        "redirect_uri": REDIRECT_URI,
        "scope": ["openid", "email"],
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": client.code_challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    params = {key: value for key, value in params.items() if value is not None}
    # oauthlib builds only https URLs; the test client needs the path and query.
    url = client.prepare_request_uri(
        f"https://testserver{reverse('oauth2_provider:authorize')}", **params
    )
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def consent(browser, client, **overrides):
    """Casey opens the authorization URL and presses Allow; returns the redirect's query."""
    page = browser.get(authorization_url(client, **overrides))
    assert page.status_code == 200, page.content[:500]
    shown = {key: value for key, value in page.context["form"].initial.items() if value}
    answer = browser.post(reverse("oauth2_provider:authorize"), {**shown, "allow": "Authorize"})
    assert answer.status_code == 302
    return answer["Location"]


def exchange_code(browser, client, location):
    code = client.parse_request_uri_response(location, state="state-123")["code"]
    body = client.prepare_request_body(
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=client.code_verifier,
        client_secret=CLIENT_SECRET,
        include_client_id=True,
    )
    return browser.post(
        reverse("oauth2_provider:token"),
        data=body,
        content_type="application/x-www-form-urlencoded",
    )


def published_keys(browser) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(browser.get(reverse("oauth2_provider:jwks-info")).json())


# --- Discovery and keys ------------------------------------------------------------------


def test_the_discovery_document_describes_a_code_flow_provider(client, db):
    document = client.get("/o/.well-known/openid-configuration").json()

    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize/"
    assert document["token_endpoint"] == f"{ISSUER}/token/"
    assert document["userinfo_endpoint"] == f"{ISSUER}/userinfo/"
    assert document["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert document["response_types_supported"] == ["code"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert {"sub", "email", "email_verified"} <= set(document["claims_supported"])


def test_the_jwks_publishes_one_rsa_signing_key_a_jose_library_reads(client, db):
    keys = published_keys(client)

    assert len(keys.keys) == 1
    key = keys.keys[0]
    assert key.key_type == "RSA"
    assert key.key_id
    # Only the public half is published.
    raw = client.get(reverse("oauth2_provider:jwks-info")).json()["keys"][0]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(raw)


# --- The authorization code flow ---------------------------------------------------------


def test_casey_signs_in_to_a_partner_and_gets_an_id_token_signed_with_the_published_key(
    client, customer, partner_app
):
    client.force_login(customer)
    oauth = oauth_client(partner_app)

    location = consent(client, oauth)
    response = exchange_code(client, oauth, location)

    assert response.status_code == 200, response.content
    tokens = response.json()
    key = published_keys(client).keys[0]
    claims = jwt.decode(
        tokens["id_token"],
        key=key,
        algorithms=["RS256"],
        audience=partner_app.client_id,
        issuer=ISSUER,
    )
    assert claims["sub"] == str(customer.pk)
    assert claims["email"] == "casey@example.com"
    assert claims["email_verified"] is True
    assert claims["nonce"] == "nonce-456"
    assert jwt.get_unverified_header(tokens["id_token"])["kid"] == key.key_id


def test_the_authorization_response_names_the_issuer(client, customer, partner_app):
    client.force_login(customer)

    location = consent(client, oauth_client(partner_app))

    assert parse_qs(urlsplit(location).query)["iss"] == [ISSUER]


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_family(
    client, customer, partner_app
):
    client.force_login(customer)
    oauth = oauth_client(partner_app)
    first = exchange_code(client, oauth, consent(client, oauth)).json()

    def refresh(token):
        return client.post(
            reverse("oauth2_provider:token"),
            data={
                "grant_type": "refresh_token",
                "refresh_token": token,
                "client_id": partner_app.client_id,
                "client_secret": CLIENT_SECRET,
            },
        )

    second = refresh(first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]

    replayed = refresh(first["refresh_token"])
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    # Reuse of a rotated token means it leaked: the token issued after it dies too.
    assert refresh(second.json()["refresh_token"]).status_code == 400
    assert not RefreshToken.objects.filter(revoked__isnull=True, user=customer).exists()


# --- Requests the provider refuses -------------------------------------------------------


def test_an_authorization_request_without_pkce_is_refused(client, customer, partner_app):
    client.force_login(customer)
    oauth = oauth_client(partner_app)

    response = client.get(
        authorization_url(oauth, code_challenge=None, code_challenge_method=None)
    )

    assert response.status_code == 302
    answer = parse_qs(urlsplit(response["Location"]).query)
    assert answer["error"] == ["invalid_request"]
    assert "code" not in answer


def test_a_plain_pkce_challenge_is_refused(client, customer, partner_app):
    client.force_login(customer)
    oauth = oauth_client(partner_app)

    location = consent(
        client, oauth, code_challenge=oauth.code_verifier, code_challenge_method="plain"
    )

    answer = parse_qs(urlsplit(location).query)
    assert answer["error"] == ["invalid_request"]
    assert "code" not in answer


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://example.invalid/steal",
        "https://partner.invalid/signed-in/../steal",
        "https://partner.invalid.example.invalid/signed-in",
        "//example.invalid/signed-in",
        "javascript:alert(1)",
    ],
)
def test_an_unregistered_redirect_uri_is_refused_without_redirecting(
    client, customer, partner_app, redirect_uri
):
    client.force_login(customer)

    response = client.get(authorization_url(oauth_client(partner_app), redirect_uri=redirect_uri))

    assert response.status_code == 400
    assert not response.has_header("Location")
    assert b"refused" in response.content


def test_an_implicit_flow_request_gets_no_token(client, customer, partner_app):
    client.force_login(customer)
    oauth = oauth_client(partner_app)

    for response_type in ["token", "id_token", "id_token token", "code id_token"]:
        url = authorization_url(oauth).replace(
            "response_type=code", f"response_type={response_type}"
        )
        response = client.get(url)

        location = response.get("Location", "")
        assert "access_token" not in location
        assert "id_token=" not in location
        assert response.status_code in {302, 400}


def test_the_password_grant_is_refused_at_the_token_endpoint(client, customer, partner_app):
    response = client.post(
        reverse("oauth2_provider:token"),
        data={
            "grant_type": "password",
            "username": customer.email,
            "password": "correct horse battery staple 42",
            "client_id": partner_app.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert response.status_code in {400, 401}
    assert "access_token" not in response.json()


def test_an_anonymous_authorization_request_sends_the_person_to_sign_in_first(client, partner_app):
    url = authorization_url(oauth_client(partner_app))

    response = client.get(url)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query)["next"][0].startswith("/o/authorize/")


@pytest.mark.parametrize(
    "next_url",
    [
        "https://example.invalid/",
        "//example.invalid/",
        "/\\example.invalid",
        "javascript:alert(1)",
    ],
)
def test_an_off_site_next_after_signing_in_lands_on_the_account_page(client, customer, next_url):
    response = client.post(
        reverse("account_login"),
        {"login": customer.email, "password": "correct horse battery staple 42", "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/"


# --- Registering applications ------------------------------------------------------------


@pytest.mark.parametrize(
    "grant_type",
    [
        Application.GRANT_IMPLICIT,
        Application.GRANT_PASSWORD,
        Application.GRANT_OPENID_HYBRID,
        Application.GRANT_DEVICE_CODE,
    ],
)
def test_an_application_with_a_forbidden_grant_cannot_be_saved(db, grant_type):
    with pytest.raises(ValidationError) as refused:
        Application.objects.create(
            name="Legacy client",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=grant_type,
            redirect_uris=REDIRECT_URI,
        )

    assert "authorization_grant_type" in refused.value.message_dict
    assert not Application.objects.exists()


def test_an_application_cannot_sign_id_tokens_with_its_client_secret(db):
    with pytest.raises(ValidationError) as refused:
        Application.objects.create(
            name="HS256 client",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=REDIRECT_URI,
            algorithm=Application.HS256_ALGORITHM,
        )

    assert "algorithm" in refused.value.message_dict


def ada(client):
    """Ada, a superuser signed in to the admin with her second factor."""
    from apps.accounts.models import User

    admin_user = User.objects.create_superuser("ada@example.com", "correct horse battery 42")
    force_login_verified(client, admin_user)
    return admin_user


def test_the_admin_form_offers_only_the_allowed_grants(client, db):
    ada(client)

    form = client.get(reverse("admin:oauth2_provider_application_add")).context["adminform"]

    offered = {value for value, _ in form.form.fields["authorization_grant_type"].choices}
    assert offered == {Application.GRANT_AUTHORIZATION_CODE, Application.GRANT_CLIENT_CREDENTIALS}


def test_staff_register_a_partner_application_in_the_admin(client, db):
    ada(client)
    add_url = reverse("admin:oauth2_provider_application_add")
    form = client.get(add_url).context["adminform"].form
    data = {name: field.initial or "" for name, field in form.fields.items()}
    data |= {
        "name": "Pat's Partner Shop",
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": REDIRECT_URI,
        "algorithm": Application.RS256_ALGORITHM,
        "hash_client_secret": "on",
        "user": "",
    }
    data = {key: value for key, value in data.items() if value is not None}

    response = client.post(add_url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    app = Application.objects.get(name="Pat's Partner Shop")
    assert app.algorithm == Application.RS256_ALGORITHM

    refused = client.post(
        add_url, {**data, "name": "Legacy", "authorization_grant_type": Application.GRANT_IMPLICIT}
    )
    assert refused.status_code == 200
    assert not Application.objects.filter(name="Legacy").exists()


def test_granting_a_partner_access_is_recorded_nowhere_it_should_not_be(
    client, customer, partner_app
):
    # The token response must not end up in the security events in any form.
    client.force_login(customer)
    oauth = oauth_client(partner_app)
    tokens = exchange_code(client, oauth, consent(client, oauth)).json()

    stored = json.dumps(list(SecurityEvent.objects.values("details")))
    assert tokens["access_token"] not in stored
    assert tokens["refresh_token"] not in stored


def test_issued_tokens_are_not_stored_as_given(client, customer, partner_app):
    client.force_login(customer)
    oauth = oauth_client(partner_app)
    tokens = exchange_code(client, oauth, consent(client, oauth)).json()

    stored_access = AccessToken.objects.get(user=customer)
    stored_refresh = RefreshToken.objects.get(user=customer)

    assert tokens["access_token"] not in {stored_access.token, stored_access.token_checksum}
    assert tokens["refresh_token"] != stored_refresh.token


# --- A NUL in any parameter is a bad request, never a server error -------------------------


def _basic(client_id, secret):
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.mark.parametrize(
    ("endpoint", "body", "credentials"),
    [
        ("token", "grant_type=client_credentials&client_id=%00&client_secret=x", None),
        ("token", "grant_type=client_credentials", ("\x00", "x")),
        ("token", "grant_type=authorization_code&code=%00&redirect_uri=x", "partner"),
        ("token", "grant_type=authorization_code&code=c&redirect_uri=%00", "partner"),
        ("token", "grant_type=refresh_token&refresh_token=%00", "partner"),
        ("revoke-token", "token=%00", "partner"),
        ("revoke-token", "token=t&client_id=%00", None),
        ("introspect", "token=%00", ("\x00", "\x00")),
    ],
)
def test_a_nul_in_a_protocol_parameter_is_a_bad_request(
    client, partner_app, endpoint, body, credentials
):
    # PostgreSQL's text cannot hold U+0000 (psycopg 3 refuses it before sending), and the
    # toolkit looks clients, codes and tokens up by whatever was sent.
    if credentials == "partner":
        credentials = (partner_app.client_id, CLIENT_SECRET)
    headers = {"HTTP_AUTHORIZATION": _basic(*credentials)} if credentials else {}

    response = client.post(
        reverse(f"oauth2_provider:{endpoint}"),
        body,
        content_type="application/x-www-form-urlencoded",
        **headers,
    )

    assert response.status_code in {400, 401}
    assert response.json()["error"] in {"invalid_request", "invalid_client"}


def test_a_nul_in_the_authorization_request_is_a_bad_request(client, customer, partner_app):
    force_login_verified(client, customer)
    url = authorization_url(oauth_client(partner_app))

    response = client.get(
        url.replace("state=state-123", "state=%00").replace(
            f"client_id={partner_app.client_id}", "client_id=%00"
        )
    )

    assert response.status_code == 400
