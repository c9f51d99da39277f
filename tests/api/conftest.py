"""People and clients of the partner API tests.

Acme is a partner with two machine clients: Acme's CRM (read, write and personal fields) and
Acme's reporting job (read only, no personal fields). Globex is another partner whose data Acme
must never see. Casey is an end user with a password (tests/conftest.py).
"""

import base64
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.partners.models import Partner
from apps.partners.services import register_partner_application
from apps.rbac.models import Permission, Role
from apps.rbac.seed import SEED_ROLES, install
from tests.support import STRONG_PASSWORD

ALL_CUSTOMER_SCOPES = {"customers:read", "customers:write", "customers:personal"}


@pytest.fixture(autouse=True)
def seed_roles(db):
    """The seed roles come from a data migration, which a transactional test's flush removes."""
    if Role.objects.filter(name__in=SEED_ROLES).count() != len(SEED_ROLES):
        install(Role, Permission)


@pytest.fixture(autouse=True)
def _fresh_counters():
    # Rate limits and lockouts live in the cache; each test starts with none spent.
    cache.clear()
    yield
    cache.clear()


class Client:
    """A registered machine client: its id, its one-time secret, its partner."""

    def __init__(self, application, secret, partner, scopes):
        self.scopes = " ".join(sorted(scopes))
        self.application = application
        self.client_id = application.client_id
        self.secret = secret
        self.partner = partner

    def basic_auth(self) -> str:
        pair = f"{self.client_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()


def register(partner, name, scopes):
    application, secret = register_partner_application(
        partner, name=name, scopes=scopes, actor="test"
    )
    return Client(application, secret, partner, scopes)


@pytest.fixture
def acme(db):
    return Partner.objects.create(name="Acme")


@pytest.fixture
def globex(db):
    return Partner.objects.create(name="Globex")


@pytest.fixture
def acme_crm(acme):
    return register(acme, "Acme CRM", ALL_CUSTOMER_SCOPES)


@pytest.fixture
def acme_reporting(acme):
    return register(acme, "Acme reporting", {"customers:read"})


@pytest.fixture
def globex_crm(globex):
    return register(globex, "Globex CRM", ALL_CUSTOMER_SCOPES)


def json_client() -> APIClient:
    """An API test client that sends JSON bodies unless told otherwise."""
    client = APIClient()
    client.default_format = "json"
    return client


def client_token(client: Client, scope: str | None = None) -> str:
    """A client-credentials token from /o/token/ with every scope the client may have."""
    api = json_client()
    data = {"grant_type": "client_credentials", "scope": scope or client.scopes}
    response = api.post(
        "/o/token/",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=client.basic_auth(),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def api_as(token: str) -> APIClient:
    api = json_client()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def password_login(email: str, password: str = STRONG_PASSWORD, otp: str | None = None, **extra):
    body = {"email": email, "password": password}
    if otp is not None:
        body["otp"] = otp
    return json_client().post("/api/v1/auth/token/", body, format="json", **extra)
