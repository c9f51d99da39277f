"""Compliance staff manage access in the admin; every change is an event with who, what, why."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.partners.models import Customer
from apps.rbac.models import (
    AccessReview,
    GroupObjectGrant,
    Permission,
    Role,
    RoleBinding,
    UserObjectGrant,
)
from apps.siem.models import SecurityEvent
from tests.conftest import give_permissions, make_person
from tests.rbac.conftest import bind
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_browser(officer):
    browser = Client()
    force_login_verified(browser, officer)
    return browser


def test_the_officer_binds_a_role_and_the_event_says_who_what_and_why(
    officer_browser, officer, mallory, acme
):
    role = Role.objects.get(name="partner-client")
    response = officer_browser.post(
        "/admin/rbac/rolebinding/add/",
        {"role": role.pk, "user": mallory.pk, "scope": f"partner:{acme.pk}",
         "reason": "joined Acme's support desk"},
    )  # fmt: skip

    assert response.status_code == 302, response.content[:2000]
    binding = RoleBinding.objects.get(user=mallory)
    assert binding.granted_by == officer
    event = SecurityEvent.objects.get(
        event_type="rbac.binding.created", subject=f"user:{mallory.pk}"
    )
    assert event.actor == f"user:{officer.pk}"
    assert event.subject == f"user:{mallory.pk}"
    assert event.details["role"] == "partner-client"
    assert event.details["reason"] == "joined Acme's support desk"


def test_the_officer_cannot_bind_a_role_to_herself(officer_browser, officer):
    """Handing out roles would otherwise make her an administrator in one form."""
    administrator = Role.objects.get(name="administrator")
    before = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()

    response = officer_browser.post(
        "/admin/rbac/rolebinding/add/",
        {"role": administrator.pk, "user": officer.pk, "reason": "covering for a colleague"},
    )

    assert response.status_code == 403
    assert not RoleBinding.objects.filter(user=officer, role=administrator).exists()
    after = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()
    assert after == before + 1


def test_the_officer_cannot_bind_a_role_to_a_group_she_belongs_to(officer_browser, officer):
    team = Group.objects.create(name="compliance team")
    officer.groups.add(team)
    administrator = Role.objects.get(name="administrator")

    response = officer_browser.post(
        "/admin/rbac/rolebinding/add/",
        {"role": administrator.pk, "group": team.pk, "reason": "the team needs it"},
    )

    assert response.status_code == 403
    assert not RoleBinding.objects.filter(group=team).exists()


@pytest.mark.parametrize(
    "mistake",
    [{"scope": "partner 42"}, {"expires_at_0": "2001-01-01", "expires_at_1": "00:00"}],
    ids=["malformed scope", "expiry in the past"],
)
def test_a_binding_the_service_refuses_is_a_form_error(officer_browser, mallory, mistake):
    role = Role.objects.get(name="customer")
    form = {"role": role.pk, "user": mallory.pk, "reason": "new customer", **mistake}

    response = officer_browser.post("/admin/rbac/rolebinding/add/", form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not RoleBinding.objects.filter(user=mallory).exists()


def test_a_binding_is_revoked_only_with_a_reason(officer_browser, acme_client):
    binding = acme_client.role_bindings.get()
    form = {"action": "revoke", "_selected_action": [binding.pk]}

    asked = officer_browser.post("/admin/rbac/rolebinding/", form)
    assert asked.status_code == 200
    assert RoleBinding.objects.filter(pk=binding.pk).exists()

    officer_browser.post(
        "/admin/rbac/rolebinding/", {**form, "confirm": "1", "reason": "contract ended"}
    )

    assert not RoleBinding.objects.filter(pk=binding.pk).exists()
    event = SecurityEvent.objects.get(event_type="rbac.binding.revoked")
    assert event.details["reason"] == "contract ended"


def test_the_officer_may_read_roles_but_not_change_them(officer_browser):
    role = Role.objects.get(name="customer")

    assert officer_browser.get("/admin/rbac/role/").status_code == 200
    response = officer_browser.post(
        f"/admin/rbac/role/{role.pk}/change/",
        {"name": "customer", "permissions": [], "change_reason": "x"},
    )

    assert response.status_code == 403
    assert role.permissions.count() == 4


def test_an_administrator_changes_a_role_and_the_event_holds_before_and_after(granter, mallory):
    bind("administrator", user=mallory, granter=granter)
    mallory.is_staff = True
    mallory.save()
    browser = Client()
    force_login_verified(browser, mallory)
    role = Role.objects.get(name="customer")
    keep = list(role.permissions.values_list("pk", flat=True))[:1]

    response = browser.post(
        f"/admin/rbac/role/{role.pk}/change/",
        {"name": "customer", "description": role.description, "permissions": keep,
         "change_reason": "cards move to their own role"},
    )  # fmt: skip

    assert response.status_code == 302
    event = SecurityEvent.objects.get(event_type="rbac.role.changed")
    assert event.actor == f"user:{mallory.pk}"
    assert len(event.details["before"]["permissions"]) == 4
    assert len(event.details["after"]["permissions"]) == 1
    assert event.details["reason"] == "cards move to their own role"


def test_an_object_grant_is_made_in_the_admin_and_recorded(
    officer_browser, officer, mallory, bolt_record
):
    response = officer_browser.post(
        "/admin/rbac/userobjectgrant/add/",
        {"user": mallory.pk, "resource": "customers", "object_id": str(bolt_record.pk),
         "action": "read", "reason": "investigating a complaint"},
    )  # fmt: skip

    assert response.status_code == 302, response.content[:3000]
    assert UserObjectGrant.objects.filter(user=mallory, object_pk=str(bolt_record.pk)).exists()
    event = SecurityEvent.objects.get(event_type="rbac.grant.created")
    assert event.actor == f"user:{officer.pk}"
    assert event.details == {
        "resource": "customers", "action": "read", "object": str(bolt_record.pk),
        "reason": "investigating a complaint",
    }  # fmt: skip


def test_the_officer_cannot_grant_herself_an_object(officer_browser, officer, bolt_record):
    response = officer_browser.post(
        "/admin/rbac/userobjectgrant/add/",
        {"user": officer.pk, "resource": "customers", "object_id": str(bolt_record.pk),
         "action": "read", "reason": "a second look"},
    )  # fmt: skip

    assert response.status_code == 403
    assert not UserObjectGrant.objects.filter(user=officer).exists()


def test_the_officer_cannot_grant_an_object_to_a_group_she_belongs_to(
    officer_browser, officer, bolt_record
):
    team = Group.objects.create(name="compliance team")
    officer.groups.add(team)

    response = officer_browser.post(
        "/admin/rbac/groupobjectgrant/add/",
        {"group": team.pk, "resource": "customers", "object_id": str(bolt_record.pk),
         "action": "read", "reason": "a second look"},
    )  # fmt: skip

    assert response.status_code == 403
    assert not GroupObjectGrant.objects.filter(group=team).exists()


def test_an_access_review_lists_bindings_and_grants_and_exports_defused_csv_and_json(
    officer_browser, officer, acme_client, mallory, bolt_record
):
    from apps.rbac.services import grant_object_permission

    acme_client.email = "=cmd@example.com"  # a formula waiting for a spreadsheet
    acme_client.save()
    grant_object_permission(bolt_record, "read", user=mallory, granted_by=officer, reason="audit")

    response = officer_browser.post("/admin/rbac/accessreview/add/", {"confirm": "1"})
    assert response.status_code == 302
    review = AccessReview.objects.get()
    exported = officer_browser.get(f"/admin/rbac/accessreview/{review.pk}/export.csv")
    as_json = officer_browser.get(f"/admin/rbac/accessreview/{review.pk}/export.json")

    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    priya = next(r for r in rows if r["holder"] == f"user:{acme_client.pk}")
    assert priya["holder_email"] == "'=cmd@example.com"
    assert priya["role"] == "partner-client"
    assert priya["granted_by"] == f"user:{acme_client.role_bindings.get().granted_by_id}"
    grant = next(r for r in rows if r["kind"] == "object grant")
    assert grant["object"] == str(bolt_record.pk)
    assert grant["reason"] == "audit"
    assert len(json.loads(as_json.content)["entries"]) == len(rows)
    assert SecurityEvent.objects.filter(event_type="data.access", actor=f"user:{officer.pk}")


def test_staff_without_a_role_cannot_open_access_admin(mallory):
    mallory.is_staff = True
    mallory.save()
    browser = Client()
    force_login_verified(browser, mallory)

    assert browser.get("/admin/rbac/rolebinding/").status_code == 403
    assert browser.get("/admin/rbac/accessreview/add/").status_code == 403
    assert Permission.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.parametrize("page", ["change", "delete", "history"])
def test_an_object_id_with_a_nul_in_an_admin_url_is_no_server_error(officer_browser, page):
    # A refused page records its denial with the object id from the URL; the event must take
    # whatever the address held.
    response = officer_browser.get(f"/admin/rbac/role/%00/{page}/")

    assert response.status_code < 500


def test_an_officer_bound_to_one_partner_cannot_take_an_access_review(mallory, acme, granter):
    """A review holds every binding and grant of every partner; it cannot be narrowed to one."""
    mallory.is_staff = True
    mallory.save()
    bind("compliance-officer", user=mallory, scope=f"partner:{acme.pk}", granter=granter)
    browser = Client()
    force_login_verified(browser, mallory)
    before = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()

    response = browser.post("/admin/rbac/accessreview/add/", {"confirm": "1"})

    assert response.status_code == 403
    assert not AccessReview.objects.exists()
    after = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()
    assert after == before + 1


def test_staff_without_a_role_are_refused_an_access_review_export_and_it_is_recorded(
    mallory, officer
):
    from apps.rbac.services import take_access_review

    review = take_access_review(taken_by=officer)
    mallory.is_staff = True
    mallory.save()
    browser = Client()
    force_login_verified(browser, mallory)
    before = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()

    response = browser.get(f"/admin/rbac/accessreview/{review.pk}/export.csv")

    assert response.status_code == 403
    after = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()
    assert after == before + 1


def test_someone_who_is_not_staff_is_refused_the_admin_and_it_is_recorded(mallory):
    """Signed in with a second factor, holding a role even: the admin is for staff only."""
    bind("compliance-officer", user=mallory)
    browser = Client()
    force_login_verified(browser, mallory)
    before = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()

    response = browser.get("/admin/rbac/rolebinding/", follow=True)

    assert response.status_code == 403
    refusals = SecurityEvent.objects.filter(event_type="auth.unauthorized.access")
    assert refusals.count() == before + 1
    assert refusals.order_by("-pk").first().actor == f"user:{mallory.pk}"


def test_a_reader_of_object_grants_cannot_revoke_one(mallory, bolt_record, granter):
    """An auditor who reads grants (object-grants:read) must not take them away."""
    from apps.rbac.services import grant_object_permission

    grant_object_permission(bolt_record, "read", user=mallory, granted_by=granter, reason="audit")
    auditor = give_permissions(
        make_person("aude.auditor@example.com", is_staff=True), "object-grants:read:all"
    )
    browser = Client()
    force_login_verified(browser, auditor)
    grant = UserObjectGrant.objects.get(user=mallory)

    browser.post(
        "/admin/rbac/userobjectgrant/",
        {"action": "revoke", "_selected_action": [grant.pk], "confirm": "1", "reason": "x"},
    )

    assert UserObjectGrant.objects.filter(pk=grant.pk).exists()


def test_a_role_manager_cannot_widen_a_role_she_holds(granter):
    """Editing one's own role is granting oneself its new permissions: four eyes again."""
    manager_role = Role.objects.create(name="role-manager")
    manager_role.permissions.add(
        Permission.objects.get_or_create(resource="roles", action="read", scope="all")[0],
        Permission.objects.get_or_create(resource="roles", action="write", scope="all")[0],
    )
    rosa = make_person("rosa.roles@example.com", is_staff=True)
    bind("role-manager", user=rosa, granter=granter)
    browser = Client()
    force_login_verified(browser, rosa)
    everything = Permission.objects.get(resource="*", action="*", scope="all")
    kept = list(manager_role.permissions.values_list("pk", flat=True))

    response = browser.post(
        f"/admin/rbac/role/{manager_role.pk}/change/",
        {"name": "role-manager", "permissions": [*kept, everything.pk], "change_reason": "x"},
    )

    assert response.status_code == 403
    assert not manager_role.permissions.filter(pk=everything.pk).exists()


def test_the_officer_cannot_grant_what_she_may_not_do_herself(
    officer_browser, mallory, bolt_record
):
    """She reads customers: she may share reading one, not deleting it (nor a card's number)."""
    before = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()

    response = officer_browser.post(
        "/admin/rbac/userobjectgrant/add/",
        {"user": mallory.pk, "resource": "customers", "object_id": str(bolt_record.pk),
         "action": "delete", "reason": "cleaning up"},
    )  # fmt: skip

    assert response.status_code == 403
    assert not UserObjectGrant.objects.filter(user=mallory).exists()
    after = SecurityEvent.objects.filter(event_type="auth.unauthorized.access").count()
    assert after == before + 1
