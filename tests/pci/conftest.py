"""The people of the vault's tests.

* Casey (``customer``): an end user who saves their own cards and may not reveal numbers.
* Olivia (``card_revealer``): compliance staff holding ``cards:detokenize:all``.
* Acme (``acme``): a partner. Its billing system (``acme_billing``) is a registered OAuth2
  machine client acting as Acme's service user, whose role grants every card action scoped to
  ``partner:<acme>``; each token it asks for may narrow that. Globex is another partner with a
  billing system of its own.
* Mallory (``mallory``): signed in, with no role at all.
"""

import base64
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from apps.partners.models import Partner
from apps.partners.services import register_partner_application
from apps.pci.access import Caller
from apps.rbac.services import bind_role, create_role, ensure_permission
from tests.conftest import make_person

ALL_CARD_SCOPES = frozenset({"cards:tokenize", "cards:read", "cards:delete", "cards:detokenize"})


def grant(user, role_name, permissions, *, scope=""):
    """Bind a role holding these permission strings to user, creating the role if needed."""
    from apps.rbac.models import Role

    role = Role.objects.filter(name=role_name).first() or create_role(
        name=role_name,
        permissions=[ensure_permission(text) for text in permissions],
        created_by="test",
        reason="test setup",
    )
    bind_role(role=role, user=user, scope=scope, granted_by=_granter(), reason="test setup")
    return user


def _granter():
    """Grace, the superuser who hands out roles in these tests."""
    from apps.accounts.models import User

    grace = User.objects.filter(email="grace.granter@example.com").first()
    return grace or make_person("grace.granter@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def card_revealer(db):
    user = make_person("olivia.reveal@example.com", is_staff=True)
    return grant(user, "card-revealer", ["cards:detokenize:all"])


@pytest.fixture
def mallory(db):
    return make_person("mallory@example.com")


@pytest.fixture
def acme(db):
    return Partner.objects.create(name="Acme Billing")


@pytest.fixture
def globex(db):
    return Partner.objects.create(name="Globex")


@dataclass
class MachineClient:
    application: object
    secret: str
    partner: Partner

    @property
    def user(self):
        return self.application.user

    @property
    def reference(self) -> str:
        return f"client:{self.application.client_id}"

    def caller(self, scopes=ALL_CARD_SCOPES) -> Caller:
        """The client as the vault's services see it, holding a token with these scopes."""
        return Caller(
            user=self.user,
            client_id=self.application.client_id,
            scopes=frozenset(scopes),
            partner=self.partner,
        )

    def api(self, scopes=ALL_CARD_SCOPES) -> APIClient:
        """An API client holding a real client-credentials token with these scopes."""
        api = APIClient()
        form = {"grant_type": "client_credentials", "scope": " ".join(sorted(scopes))}
        pair = f"{self.application.client_id}:{self.secret}".encode()
        response = api.post(
            "/o/token/",
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(pair).decode(),
        )
        assert response.status_code == 200, response.content
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
        return api


PARTNER_CARD_PERMISSIONS = [f"{scope}:partner" for scope in sorted(ALL_CARD_SCOPES)]


def billing_client(partner, name) -> MachineClient:
    application, secret = register_partner_application(
        partner, name=name, scopes=set(ALL_CARD_SCOPES), actor="test"
    )
    grant(
        application.user, "partner-card-vault", PARTNER_CARD_PERMISSIONS,
        scope=f"partner:{partner.pk}",
    )  # fmt: skip
    return MachineClient(application, secret, partner)


@pytest.fixture
def acme_billing(acme):
    return billing_client(acme, "Acme billing")


@pytest.fixture
def globex_billing(globex):
    return billing_client(globex, "Globex billing")
