"""The people of the access-control tests and the partners they work for.

* Casey (``customer``) holds the customer role and owns one customer record at Acme.
* Priya (``acme_client``) holds partner-client scoped to Acme.
* Quinn (``bolt_client``) holds partner-client scoped to Bolt.
* Olivia (``officer``) holds compliance-officer, which requires MFA.
* Mallory (``mallory``) has an account and no role at all.
"""

import pytest

from apps.partners.models import Customer, Partner
from apps.rbac.models import Permission, Role
from apps.rbac.seed import SEED_ROLES, install
from apps.rbac.services import bind_role
from tests.conftest import make_person


@pytest.fixture(autouse=True)
def seed_roles(db):
    """The seed roles come from a data migration, which a transactional test's flush removes."""
    if Role.objects.filter(name__in=SEED_ROLES).count() != len(SEED_ROLES):
        install(Role, Permission)


@pytest.fixture
def acme(db):
    return Partner.objects.create(name="Acme")


@pytest.fixture
def bolt(db):
    return Partner.objects.create(name="Bolt")


@pytest.fixture
def granter(db):
    """Grace, the superuser who hands out the roles in these tests."""
    return make_person("grace@example.com", is_staff=True, is_superuser=True)


def bind(role_name, *, user=None, group=None, scope="", granter=None, **extra):
    return bind_role(
        role=Role.objects.get(name=role_name), user=user, group=group, scope=scope,
        granted_by=granter, reason="test setup", **extra,
    )  # fmt: skip


@pytest.fixture
def customer(db, acme, granter):
    casey = make_person("casey@example.com")
    bind("customer", user=casey, granter=granter)
    return casey


@pytest.fixture
def acme_client(db, acme, granter):
    priya = make_person("priya@example.com")
    bind("partner-client", user=priya, scope=f"partner:{acme.pk}", granter=granter)
    return priya


@pytest.fixture
def bolt_client(db, bolt, granter):
    quinn = make_person("quinn@example.com")
    bind("partner-client", user=quinn, scope=f"partner:{bolt.pk}", granter=granter)
    return quinn


@pytest.fixture
def officer(db, granter):
    olivia = make_person("olivia.rbac@example.com", is_staff=True)
    bind("compliance-officer", user=olivia, granter=granter)
    return olivia


@pytest.fixture
def mallory(db):
    return make_person("mallory@example.com")


@pytest.fixture
def caseys_record(customer, acme):
    return Customer.objects.create(
        partner=acme, owner=customer, reference="C-1", display_name="Casey"
    )


@pytest.fixture
def acme_record(acme):
    return Customer.objects.create(partner=acme, reference="A-1", display_name="Someone at Acme")


@pytest.fixture
def bolt_record(bolt):
    return Customer.objects.create(partner=bolt, reference="B-1", display_name="Someone at Bolt")
