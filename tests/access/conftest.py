"""Objects shared by the access suites: two of each kind, differing in owner and partner.

``inside`` belongs to Casey at Acme; ``outside`` to Dana at Bolt. The suites build their own
people from each model's access-control declaration, so nothing here holds a role.
"""

import pytest

from apps.accounts.models import User
from apps.partners.models import Customer, Partner
from apps.pci.access import Caller
from apps.pci.services import tokenize_card
from apps.rbac.models import Permission, Role
from apps.rbac.seed import SEED_ROLES, install
from tests.pci.cards import MASTERCARD, VISA


@pytest.fixture(autouse=True)
def seed_roles(db):
    """The seed roles come from a data migration, which a transactional test's flush removes."""
    if Role.objects.filter(name__in=SEED_ROLES).count() != len(SEED_ROLES):
        install(Role, Permission)


@pytest.fixture
def casey(db):
    return User.objects.create_user("casey.access@example.com")


@pytest.fixture
def dana(db):
    return User.objects.create_user("dana.access@example.com")


@pytest.fixture
def acme(db):
    return Partner.objects.create(name="Acme")


@pytest.fixture
def bolt(db):
    return Partner.objects.create(name="Bolt")


@pytest.fixture
def two_customers(casey, dana, acme, bolt):
    inside = Customer.objects.create(partner=acme, owner=casey, reference="A-1", display_name="a")
    outside = Customer.objects.create(partner=bolt, owner=dana, reference="B-1", display_name="b")
    return inside, outside


def stored_card(number, owner):
    card, _ = tokenize_card(
        pan=number, expiry_month="12", expiry_year="2035", owner=owner,
        actor=Caller.for_user(None), via="test",
    )  # fmt: skip
    return card


@pytest.fixture
def two_personal_cards(casey, dana):
    return stored_card(VISA, casey), stored_card(MASTERCARD, dana)


@pytest.fixture
def two_partner_cards(acme, bolt):
    return stored_card(VISA, acme), stored_card(MASTERCARD, bolt)
