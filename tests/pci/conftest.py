"""The people of the vault's tests.

* Casey (``customer``): an end user who saves their own cards and may not reveal numbers.
* Olivia (``card_revealer``): compliance staff allowed to reveal card numbers.
* Acme (``acme``): a partner. Its billing system (``acme_billing``) is a registered OAuth2
  machine client acting as Acme's service user, allowed every card scope; each token it asks
  for may narrow that.
* Mallory (``mallory``): signed in, with no rights over anyone's cards.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from apps.partners.models import Partner
from apps.partners.services import register_partner_application
from apps.pci.access import Caller
from tests.conftest import make_person

ALL_CARD_SCOPES = frozenset({"cards:tokenize", "cards:read", "cards:delete", "cards:detokenize"})


@pytest.fixture
def card_revealer(db):
    user = make_person("olivia.reveal@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="detokenize_cardtoken"))
    return user


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
        response = api.post(
            "/o/token/",
            {
                "grant_type": "client_credentials",
                "scope": " ".join(sorted(scopes)),
                "client_id": self.application.client_id,
                "client_secret": self.secret,
            },
        )
        assert response.status_code == 200, response.content
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
        return api


@pytest.fixture
def acme_billing(acme):
    application, secret = register_partner_application(
        acme, name="Acme billing", scopes=set(ALL_CARD_SCOPES), actor="test"
    )
    return MachineClient(application, secret, acme)


@pytest.fixture
def globex_billing(globex):
    application, secret = register_partner_application(
        globex, name="Globex billing", scopes=set(ALL_CARD_SCOPES), actor="test"
    )
    return MachineClient(application, secret, globex)
