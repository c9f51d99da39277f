"""The API base every endpoint shares: schema, docs, errors, paging, request ids, CORS, rates."""

import re

import pytest

from apps.partners.models import Customer
from tests.api.conftest import api_as, client_token, json_client

pytestmark = pytest.mark.django_db


def test_the_schema_lists_every_endpoint_with_the_error_body():
    response = json_client().get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    for path in ["/api/v1/customers/", "/api/v1/auth/token/", "/api/v1/me/", "/api/v1/health/"]:
        assert path in schema["paths"]
    listing = schema["paths"]["/api/v1/customers/"]["get"]["responses"]
    assert listing["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "partnerClient" in schema["components"]["securitySchemes"]


def test_the_docs_page_loads_its_assets_from_our_own_static_files():
    page = json_client().get("/api/docs/").content.decode()

    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, page
    # Static files, and the start-up script the docs view serves itself (?script): this site.
    assert all(source.startswith(("/static/", "/api/docs/?script")) for source in sources), sources


def test_invalid_fields_are_reported_in_the_one_error_shape():
    response = json_client().post("/api/v1/auth/token/", {"email": ""}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert set(body["fields"]) == {"email", "password"}


def test_a_request_without_credentials_is_401_in_the_one_error_shape():
    response = json_client().get("/api/v1/customers/")

    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "fields"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_json_body_is_400_not_500():
    response = json_client().post(
        "/api/v1/auth/token/", data=b'{"email": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_the_request_id_is_echoed_in_a_header():
    response = json_client().get("/api/v1/health/", HTTP_X_REQUEST_ID="trace-123")

    assert response["X-Request-ID"] == "trace-123"


def test_customer_lists_are_paged_with_opaque_cursors(acme, acme_crm):
    for number in range(3):
        Customer.objects.create(partner=acme, reference=f"ref-{number}")
    api = api_as(client_token(acme_crm))

    first = api.get("/api/v1/customers/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert [row["reference"] for row in first["results"]] == ["ref-2", "ref-1"]
    assert [row["reference"] for row in second["results"]] == ["ref-0"]
    assert "cursor=" in first["next"]


def test_a_broken_cursor_is_refused_not_a_server_error(acme_crm):
    api = api_as(client_token(acme_crm))

    assert api.get("/api/v1/customers/", {"cursor": "%%%not-base64"}).status_code == 404


def test_too_many_requests_from_one_address_get_429_with_retry_after(settings):
    settings.PORTAL_API_RATE_PER_ADDRESS = 3
    api = json_client()

    answers = [api.get("/api/v1/health/").status_code for _ in range(4)]

    assert answers[:3] == [200, 200, 200]
    assert answers[3] == 429
    refused = api.get("/api/v1/health/")
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"


def test_the_address_limit_ignores_a_forged_forwarded_header(settings):
    settings.PORTAL_API_RATE_PER_ADDRESS = 2
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    api = json_client()

    answers = [
        api.get("/api/v1/health/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]

    assert answers == [200, 200, 429]


def test_one_client_is_limited_whatever_address_it_calls_from(settings, acme_crm):
    settings.PORTAL_API_RATE_PER_CLIENT = 2
    api = api_as(client_token(acme_crm))

    answers = [
        api.get("/api/v1/customers/", REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(3)
    ]

    assert answers == [200, 200, 429]


def test_cors_answers_only_configured_origins(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://partner.example"]
    api = json_client()

    allowed = api.get("/api/v1/health/", HTTP_ORIGIN="https://partner.example")
    other = api.get("/api/v1/health/", HTTP_ORIGIN="https://attacker.example")

    assert allowed["Access-Control-Allow-Origin"] == "https://partner.example"
    assert "Access-Control-Allow-Origin" not in other


def test_an_unknown_address_under_the_api_answers_in_the_error_shape():
    response = json_client().get("/api/v1/customers/-4.5e-83/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer ....",
        "Bearer a.b.c",
        "Bearer ÿÿÿ.ÿÿÿ.ÿÿÿ",
        "Bearer " + "x" * 5000,
        "Basic Zm9vOmJhcg==",
        "Token abc",
        "",
    ],
)
def test_odd_authorization_headers_are_401_not_500(header):
    response = json_client().get("/api/v1/customers/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "fields"}


def test_an_access_token_in_the_query_string_is_not_accepted(acme_crm):
    token = client_token(acme_crm)

    assert json_client().get("/api/v1/customers/", {"access_token": token}).status_code == 401
