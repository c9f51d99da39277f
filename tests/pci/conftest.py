"""The people of the vault's tests.

* Casey (``customer``): an end user who saves their own cards and may not reveal numbers.
* Olivia (``card_revealer``): compliance staff allowed to reveal card numbers.
* Acme (``acme``): a partner; its billing system is a machine client acting as Acme's
  service user, with whichever token scopes a test gives it.
* Mallory (``mallory``): signed in, with no rights over anyone's cards.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission

from apps.partners.models import Partner
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
def acme_service_user(db):
    """The service user Acme's OAuth application acts as, allowed every card action."""
    user = make_person("svc.acme@example.com")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="pci",
            codename__in=[
                "add_cardtoken", "view_cardtoken", "delete_cardtoken", "detokenize_cardtoken",
            ],
        )
    )  # fmt: skip
    return user


def client_caller(user, scopes=ALL_CARD_SCOPES) -> Caller:
    return Caller(user=user, client_id="acme-billing", scopes=frozenset(scopes))


def access_token_for(scopes) -> SimpleNamespace:
    """Stands in for an OAuth2 access token: what the vault reads from request.auth."""
    return SimpleNamespace(
        scope=" ".join(sorted(scopes)), application=SimpleNamespace(client_id="acme-billing")
    )
