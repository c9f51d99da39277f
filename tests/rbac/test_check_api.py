"""The check API answers within the caller's own reach, and denials say nothing inside."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission
from rest_framework.test import APIClient

from apps.partners.models import Customer
from apps.rbac import versions
from apps.rbac.services import _auth_permission, revoke_binding
from apps.siem.models import SecurityEvent

pytestmark = pytest.mark.django_db

CHECK, OBJECTS = "/api/v1/authz/check/", "/api/v1/authz/objects/"


def as_person(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def ask(api, subject, obj, action="read"):
    return api.post(
        CHECK,
        {"subject": subject.pk, "action": action, "resource": "customers", "object": str(obj.pk)},
        format="json",
    )


def test_an_anonymous_caller_is_refused(customer, acme_record):
    response = APIClient().post(CHECK, {}, format="json")

    assert response.status_code in {401, 403}


def test_a_caller_without_the_check_right_gets_a_bare_403_and_an_event(
    mallory, customer, acme_record
):
    response = ask(as_person(mallory), customer, acme_record)

    assert response.status_code == 403
    body = response.content.decode().lower()
    for internal in ("role", "scope", "rbac", "grant", "access:", "partner"):
        assert internal not in body
    event = SecurityEvent.objects.get(event_type="auth.unauthorized.access")
    assert event.actor == f"user:{mallory.pk}"
    assert event.details["resource"] == "access"
    assert "no role grants" in event.details["reason"]


def test_the_officer_learns_what_a_customer_may_do(officer, customer, caseys_record, acme_record):
    api = as_person(officer)

    assert ask(api, customer, caseys_record).json() == {"allowed": True}
    assert ask(api, customer, acme_record).json() == {"allowed": False}
    assert ask(api, customer, caseys_record, action="write").json() == {"allowed": False}


def test_a_partner_cannot_ask_about_objects_it_cannot_read(acme_client, customer, bolt_record):
    response = ask(as_person(acme_client), customer, bolt_record)

    assert response.status_code == 404


def test_an_unknown_subject_is_denied_rather_than_revealed(officer, acme_record):
    response = as_person(officer).post(
        CHECK,
        {"subject": 987654, "action": "read", "resource": "customers", "object": acme_record.pk},
        format="json",
    )

    assert response.json() == {"allowed": False}


def test_garbage_questions_get_a_400_or_404_never_a_500(officer, customer):
    api = as_person(officer)
    for body in [
        {"subject": "x", "action": "read", "resource": "customers", "object": "1"},
        {"subject": customer.pk, "action": "READ;", "resource": "customers", "object": "1"},
        {"subject": customer.pk, "action": "read", "resource": "nothing-here", "object": "1"},
        {"subject": customer.pk, "action": "read", "resource": "customers", "object": "abc"},
        {"subject": customer.pk, "action": "read", "resource": "access-reviews", "object": "1"},
    ]:
        assert api.post(CHECK, body, format="json").status_code in {400, 404}, body


def test_a_revoked_binding_changes_the_answer_on_the_next_request(
    officer, acme_client, granter, acme_record
):
    api = as_person(officer)
    assert ask(api, acme_client, acme_record).json() == {"allowed": True}

    revoke_binding(acme_client.role_bindings.get(), revoked_by=granter, reason="contract ended")

    assert ask(api, acme_client, acme_record).json() == {"allowed": False}


def test_the_objects_listing_is_paged_and_limited_to_the_subjects_reach(
    officer, acme_client, acme_record, caseys_record, bolt_record
):
    response = as_person(officer).get(
        OBJECTS, {"subject": acme_client.pk, "action": "read", "resource": "customers"}
    )

    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [str(caseys_record.pk), str(acme_record.pk)]


def test_case_14_thousands_shared_through_two_groups_list_in_constant_queries(
    officer, mallory, bolt
):
    readers, auditors = Group.objects.create(name="readers"), Group.objects.create(name="audit")
    mallory.groups.add(readers, auditors)

    def share(count, start):
        rows = Customer.objects.bulk_create(
            Customer(partner=bolt, reference=f"S-{start + n}", display_name="x")
            for n in range(count)
        )
        permission = _auth_permission(rows[0], "read")
        GroupObjectPermission.objects.bulk_create(
            GroupObjectPermission(
                group=readers if n % 2 else auditors,
                permission=permission,
                content_object=row,
                object_pk=str(row.pk),
            )
            for n, row in enumerate(rows)
        )
        versions.bump_all()

    api = as_person(officer)
    question = {"subject": mallory.pk, "action": "read", "resource": "customers"}

    def listing():
        with CaptureQueriesContext(connection) as captured:
            response = api.get(OBJECTS, question)
        assert response.status_code == 200
        return len(captured), response.json()

    share(20, 0)
    few_queries, few = listing()
    share(4980, 20)
    many_queries, many = listing()

    assert len(few["results"]) == 20
    assert len(many["results"]) == 50
    assert many["next"]
    assert many_queries <= few_queries
