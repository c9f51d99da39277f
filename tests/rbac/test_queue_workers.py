"""Who works a queue everywhere: the people a queue's alerts go to.

Olivia holds compliance-officer without a scope; Grace is a superuser. Acme's own officer holds
the same role bound to Acme, so she decides Acme's requests only and is not among them.
"""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from apps.rbac.models import RoleBinding
from apps.rbac.services import people_allowed_everywhere
from tests.conftest import make_person
from tests.rbac.conftest import bind


def _workers():
    return set(people_allowed_everywhere("write", "privacy-requests"))


def test_unscoped_holders_and_superusers_work_the_queue_everywhere(officer, granter, mallory):
    assert _workers() == {officer, granter}


def test_a_partner_scoped_officer_does_not_work_every_request(granter, acme):
    acmes_officer = make_person("acme.officer@example.com", is_staff=True)
    bind("compliance-officer", user=acmes_officer, scope=f"partner:{acme.pk}", granter=granter)

    assert acmes_officer not in _workers()


def test_a_group_member_works_it_and_an_expired_binding_does_not(granter):
    member = make_person("member@example.com", is_staff=True)
    lapsed = make_person("lapsed@example.com", is_staff=True)
    officers = Group.objects.create(name="Privacy team")
    member.groups.add(officers)
    bind("compliance-officer", group=officers, granter=granter)
    bind("compliance-officer", user=lapsed, granter=granter,
         expires_at=timezone.now() + timedelta(hours=1))  # fmt: skip
    assert {member, lapsed} <= _workers()

    # Lapsed, and not yet deleted by the beat task: it grants nothing already.
    RoleBinding.objects.filter(user=lapsed).update(expires_at=timezone.now() - timedelta(1))

    assert member in _workers()
    assert lapsed not in _workers()


def test_readers_and_disabled_accounts_do_not_work_it(granter):
    analyst = make_person("analyst@example.com", is_staff=True)
    bind("security-analyst", user=analyst, granter=granter)
    gone = make_person("gone@example.com", is_staff=True)
    bind("compliance-officer", user=gone, granter=granter)
    gone.is_active = False
    gone.save()

    assert analyst not in _workers()
    assert gone not in _workers()
