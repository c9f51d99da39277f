"""authorize() and restrict() agree, deny by default, and follow every change at once."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.accounts.models import User
from apps.partners.models import Customer
from apps.rbac import decisions
from apps.rbac.models import AccessReview
from apps.rbac.policy import roles_require_mfa
from apps.rbac.services import (
    authorize,
    grant_object_permission,
    restrict,
    revoke_binding,
    revoke_object_permission,
)
from tests.rbac.conftest import bind

pytestmark = pytest.mark.django_db


def visible(user, action="read"):
    return set(restrict(Customer.objects.all(), user, action).values_list("reference", flat=True))


def test_an_anonymous_visitor_is_denied_everything(acme_record):
    from django.contrib.auth.models import AnonymousUser

    decision = authorize(AnonymousUser(), "read", "customers", acme_record)

    assert not decision.allowed
    assert decision.reason == "not signed in"
    assert visible(AnonymousUser()) == set()


def test_a_person_without_roles_is_denied_and_sees_nothing(mallory, acme_record):
    assert not authorize(mallory, "read", "customers", acme_record)
    assert not authorize(mallory, "read", "customers")
    assert visible(mallory) == set()


def test_a_customer_reads_their_own_record_and_no_one_elses(customer, caseys_record, acme_record):
    assert authorize(customer, "read", "customers", caseys_record)
    assert not authorize(customer, "read", "customers", acme_record)
    assert not authorize(customer, "write", "customers", caseys_record)
    assert visible(customer) == {"C-1"}


def test_a_partner_client_reaches_only_its_partners_customers(
    acme_client, acme_record, caseys_record, bolt_record
):
    decision = authorize(acme_client, "write", "customers", acme_record)

    assert decision.allowed
    assert "partner-client" in decision.reason
    assert not authorize(acme_client, "read", "customers", bolt_record)
    assert visible(acme_client) == {"A-1", "C-1"}


def test_a_scoped_binding_narrows_an_all_permission_to_its_scope(acme, granter, bolt_record):
    walter = User.objects.create_user("walter@example.com")
    bind("compliance-officer", user=walter, scope=f"partner:{acme.pk}", granter=granter)

    assert not authorize(walter, "read", "customers", bolt_record)
    assert visible(walter) == set()


def test_the_administrator_role_grants_every_action_on_every_resource(granter, bolt_record):
    ada = User.objects.create_user("ada@example.com")
    bind("administrator", user=ada, granter=granter)

    assert authorize(ada, "delete", "customers", bolt_record)
    assert authorize(ada, "anything", "security-events")
    assert visible(ada, "delete") == {"B-1"}


def test_an_object_grant_opens_one_record_and_no_other(mallory, granter, acme_record, bolt_record):
    grant_object_permission(bolt_record, "read", user=mallory, granted_by=granter, reason="case")

    assert authorize(mallory, "read", "customers", bolt_record)
    assert not authorize(mallory, "read", "customers", acme_record)
    assert not authorize(mallory, "write", "customers", bolt_record)
    assert visible(mallory) == {"B-1"}


def test_a_group_object_grant_reaches_members_and_its_revocation_is_seen_at_once(
    mallory, granter, bolt_record
):
    auditors = Group.objects.create(name="auditors")
    mallory.groups.add(auditors)
    held_by_a_task = User.objects.get(pk=mallory.pk)
    grant_object_permission(bolt_record, "read", group=auditors, granted_by=granter, reason="x")
    assert authorize(held_by_a_task, "read", "customers", bolt_record)

    revoke_object_permission(bolt_record, "read", group=auditors, revoked_by=granter, reason="y")

    assert not authorize(held_by_a_task, "read", "customers", bolt_record)
    assert visible(held_by_a_task) == set()


def test_leaving_a_group_takes_away_its_roles(mallory, granter, acme, acme_record):
    acme_staff = Group.objects.create(name="acme staff")
    bind("partner-client", group=acme_staff, scope=f"partner:{acme.pk}", granter=granter)
    mallory.groups.add(acme_staff)
    assert authorize(mallory, "read", "customers", acme_record)

    acme_staff.user_set.remove(mallory)

    assert not authorize(mallory, "read", "customers", acme_record)


def test_a_revoked_binding_denies_on_the_next_decision(acme_client, granter, acme_record):
    assert authorize(acme_client, "read", "customers", acme_record)

    revoke_binding(acme_client.role_bindings.get(), revoked_by=granter, reason="left the job")

    assert not authorize(acme_client, "read", "customers", acme_record)
    assert visible(acme_client) == set()


def test_an_expired_binding_denies_without_anyone_touching_it(
    acme, granter, acme_record, monkeypatch
):
    tess = User.objects.create_user("tess@example.com")
    bind(
        "partner-client", user=tess, scope=f"partner:{acme.pk}", granter=granter,
        expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    assert authorize(tess, "read", "customers", acme_record)

    two_hours_later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: two_hours_later)

    assert not authorize(tess, "read", "customers", acme_record)
    assert visible(tess) == set()


def test_a_deactivated_account_is_denied_even_through_a_stale_user_object(
    acme_client, acme_record
):
    held_by_a_task = User.objects.get(pk=acme_client.pk)
    assert authorize(held_by_a_task, "read", "customers", acme_record)

    User.objects.filter(pk=acme_client.pk).update(is_active=False)
    # update() sends no signal; the version is bumped the way a service would bump it.
    from apps.rbac import versions

    versions.bump_user(acme_client.pk)

    assert held_by_a_task.is_active, "the task's copy still says active"
    assert authorize(held_by_a_task, "read", "customers", acme_record).reason == (
        "account inactive or gone"
    )


def test_roles_that_require_mfa_are_reported_for_direct_and_group_bindings(
    officer, customer, mallory, granter
):
    analysts = Group.objects.create(name="analysts")
    bind("security-analyst", group=analysts, granter=granter)
    mallory.groups.add(analysts)

    assert roles_require_mfa(officer)
    assert roles_require_mfa(mallory)
    assert not roles_require_mfa(customer)


def test_an_undeclared_object_is_denied_rather_than_guessed(officer, granter):
    decision = authorize(officer, "read", "customers", granter)

    assert not decision.allowed


def test_grants_on_a_model_with_a_uuid_key_work_in_both_decision_paths(mallory, granter):
    shared = AccessReview.objects.create(created_by=granter)
    other = AccessReview.objects.create(created_by=granter)
    grant_object_permission(shared, "read", user=mallory, granted_by=granter, reason="audit")

    assert authorize(mallory, "read", "access-reviews", shared)
    assert not authorize(mallory, "read", "access-reviews", other)
    assert list(restrict(AccessReview.objects.all(), mallory, "read")) == [shared]


def test_more_object_grants_than_memory_holds_are_joined_in_sql(
    mallory, granter, bolt, monkeypatch
):
    monkeypatch.setattr(decisions, "OBJECT_ID_LIMIT", 2)
    auditors = Group.objects.create(name="auditors")
    mallory.groups.add(auditors)
    records = [
        Customer.objects.create(partner=bolt, reference=f"B-{n}", display_name="x")
        for n in range(4)
    ]
    for record in records[:3]:
        grant_object_permission(record, "read", group=auditors, granted_by=granter, reason="x")
    review = AccessReview.objects.create(created_by=granter)
    for _ in range(3):
        grant_object_permission(
            AccessReview.objects.create(created_by=granter), "read", user=mallory,
            granted_by=granter, reason="x",
        )  # fmt: skip

    assert visible(mallory) == {"B-0", "B-1", "B-2"}
    assert authorize(mallory, "read", "customers", records[2])
    assert not authorize(mallory, "read", "customers", records[3])
    assert restrict(AccessReview.objects.all(), mallory, "read").count() == 3
    assert not authorize(mallory, "read", "access-reviews", review)


def test_listing_costs_the_same_queries_for_ten_or_five_thousand_shared_records(
    mallory, granter, bolt
):
    """Case 14: records shared through two groups, listed with a bounded number of queries."""
    readers, writers = Group.objects.create(name="readers"), Group.objects.create(name="writers")
    mallory.groups.add(readers, writers)

    def share(count, start):
        from guardian.models import GroupObjectPermission

        from apps.rbac.services import _auth_permission

        rows = Customer.objects.bulk_create(
            Customer(partner=bolt, reference=f"S-{start + n}", display_name="x")
            for n in range(count)
        )
        permission = _auth_permission(rows[0], "read")
        GroupObjectPermission.objects.bulk_create(
            GroupObjectPermission(
                group=readers if n % 2 else writers,
                permission=permission,
                content_object=row,
                object_pk=str(row.pk),
            )
            for n, row in enumerate(rows)
        )
        from apps.rbac import versions

        versions.bump_all()

    def queries_for_one_page():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            page = list(restrict(Customer.objects.order_by("pk"), mallory, "read")[:50])
        return len(captured), page

    share(10, 0)
    cold_small, page = queries_for_one_page()
    warm_small, _ = queries_for_one_page()
    assert len(page) == 10
    share(4990, 10)
    cold_large, page = queries_for_one_page()
    warm_large, _ = queries_for_one_page()

    assert len(page) == 50
    # Cold: the person's grants and shared ids are resolved once; warm: the page query alone.
    assert cold_large <= cold_small
    assert warm_small == warm_large == 1
