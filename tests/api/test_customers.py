"""Partner customers: each partner sees its own, personal fields need their own scope.

The access suite: anonymous, a user without permission, a scoped client, a full client.
"""

import base64
from urllib.parse import urlencode

import pytest

from apps.partners.models import Customer
from apps.rbac.models import Role
from apps.siem.models import SecurityEvent
from tests.api.conftest import api_as, client_token, json_client, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def casey_at_acme(acme):
    return Customer.objects.create(
        partner=acme, reference="crm-1", display_name="Casey Jones", email="casey@example.com"
    )


@pytest.fixture
def gina_at_globex(globex):
    return Customer.objects.create(
        partner=globex, reference="crm-1", display_name="Gina", email="gina@example.com"
    )


def test_anonymous_callers_get_401(casey_at_acme):

    assert json_client().get("/api/v1/customers/").status_code == 401
    assert json_client().get(f"/api/v1/customers/{casey_at_acme.pk}/").status_code == 401


def test_a_user_client_without_any_role_is_refused(customer, casey_at_acme):
    token = password_login(customer.email).json()["access"]

    assert api_as(token).get("/api/v1/customers/").status_code == 403


def test_a_person_with_the_customer_role_sees_only_their_own_record(customer, acme):
    from apps.rbac.services import bind_role

    bind_role(role=Role.objects.get(name="customer"), user=customer, granted_by=None, reason="t")
    mine = Customer.objects.create(partner=acme, reference="mine", owner=customer)
    Customer.objects.create(partner=acme, reference="someone else's")
    api = api_as(password_login(customer.email).json()["access"])

    rows = api.get("/api/v1/customers/").json()["results"]

    assert [row["id"] for row in rows] == [mine.pk]
    assert api.post("/api/v1/customers/", {"reference": "new"}).status_code == 403


def test_revoking_the_partner_role_stops_the_client_at_once(acme_crm, casey_at_acme):
    from apps.rbac.models import RoleBinding
    from apps.rbac.services import revoke_binding

    api = api_as(client_token(acme_crm))
    assert api.get("/api/v1/customers/").status_code == 200

    binding = RoleBinding.objects.get(user=acme_crm.application.user)
    revoke_binding(binding, revoked_by=None, reason="contract ended")

    assert api.get("/api/v1/customers/").status_code == 403
    assert api.get(f"/api/v1/customers/{casey_at_acme.pk}/").status_code == 403


def test_a_partner_client_is_bound_to_its_partner_only(acme_crm):
    from apps.rbac.models import RoleBinding

    binding = RoleBinding.objects.get(user=acme_crm.application.user)

    assert binding.role.name == "partner-client"
    assert binding.scope == f"partner:{acme_crm.partner.pk}"


def test_a_client_lists_only_its_own_partners_customers(acme_crm, casey_at_acme, gina_at_globex):
    rows = api_as(client_token(acme_crm)).get("/api/v1/customers/").json()["results"]

    assert [row["id"] for row in rows] == [casey_at_acme.pk]


def test_another_partners_customer_reads_as_not_found(acme_crm, gina_at_globex):
    api = api_as(client_token(acme_crm))

    assert api.get(f"/api/v1/customers/{gina_at_globex.pk}/").status_code == 404
    assert api.patch(f"/api/v1/customers/{gina_at_globex.pk}/", {}).status_code == 404


def test_without_the_personal_scope_personal_fields_are_left_out(acme_reporting, casey_at_acme):
    row = api_as(client_token(acme_reporting)).get("/api/v1/customers/").json()["results"][0]

    assert row == {
        "id": casey_at_acme.pk,
        "reference": "crm-1",
        "created_at": row["created_at"],
    }
    assert not SecurityEvent.objects.filter(event_type="data.access").exists()


def test_a_token_narrowed_to_read_cannot_write(acme_crm):
    api = api_as(client_token(acme_crm, scope="customers:read"))

    response = api.post("/api/v1/customers/", {"reference": "x"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_client_cannot_ask_for_scopes_beyond_its_registration(acme_reporting):

    response = json_client().post(
        "/o/token/",
        urlencode({"grant_type": "client_credentials", "scope": "customers:write"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=acme_reporting.basic_auth(),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_every_read_of_personal_fields_leaves_one_batched_access_event(acme, acme_crm):
    for number in range(3):
        Customer.objects.create(partner=acme, reference=f"r{number}", display_name="someone")
    api = api_as(client_token(acme_crm))

    api.get("/api/v1/customers/")

    # The keyring's own batch event (per request, by subject) is there too; ours names the
    # client and every customer id.
    events = SecurityEvent.objects.filter(
        event_type="data.access", actor=f"client:{acme_crm.client_id}"
    )
    assert events.count() == 1
    event = events.get()
    assert sorted(event.details["ids"]) == sorted(Customer.objects.values_list("pk", flat=True))
    assert event.details["fields"] == ["display_name", "email"]
    assert event.actor == f"client:{acme_crm.client_id}"


def test_a_full_client_creates_reads_and_updates_a_customer(acme_crm):
    api = api_as(client_token(acme_crm))

    created = api.post(
        "/api/v1/customers/",
        {"reference": "crm-9", "display_name": "Sam", "email": "sam@example.com"},
        format="json",
    )
    assert created.status_code == 201
    customer_id = created.json()["id"]

    changed = api.patch(f"/api/v1/customers/{customer_id}/", {"display_name": "Sam Lee"})
    assert changed.status_code == 200
    assert api.get(f"/api/v1/customers/{customer_id}/").json()["display_name"] == "Sam Lee"
    assert Customer.objects.get(pk=customer_id).partner == acme_crm.partner


def test_a_duplicate_reference_is_a_field_error_not_a_crash(acme_crm, casey_at_acme):
    api = api_as(client_token(acme_crm))

    response = api.post("/api/v1/customers/", {"reference": "crm-1"}, format="json")

    assert response.status_code == 400
    assert "reference" in response.json()["fields"]


def test_customers_can_be_filtered_by_reference(acme, acme_crm):
    Customer.objects.create(partner=acme, reference="wanted")
    Customer.objects.create(partner=acme, reference="other")

    rows = api_as(client_token(acme_crm)).get("/api/v1/customers/", {"reference": "wanted"})

    assert [row["reference"] for row in rows.json()["results"]] == ["wanted"]


def test_a_suspended_partner_loses_access_at_once(acme, acme_crm):
    api = api_as(client_token(acme_crm))
    acme.is_active = False
    acme.save()

    assert api.get("/api/v1/customers/").status_code == 401


def test_a_token_revoked_in_the_admin_stops_working(acme_crm):
    from oauth2_provider.models import AccessToken

    token = client_token(acme_crm)
    AccessToken.objects.all().delete()

    assert api_as(token).get("/api/v1/customers/").status_code == 401


def test_an_instant_with_an_offset_postgres_lacks_is_read_in_utc(acme_crm):
    api = api_as(client_token(acme_crm))

    response = api.get("/api/v1/customers/", {"created_after": "0909-02-10T09:08:15+16:29"})

    assert response.status_code == 200


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+05:00", "not-a-date"])
def test_an_instant_the_database_cannot_hold_is_a_field_error(acme_crm, instant):
    response = api_as(client_token(acme_crm)).get("/api/v1/customers/", {"created_after": instant})

    assert response.status_code == 400
    assert "created_after" in response.json()["fields"]


def test_a_token_of_an_application_no_partner_owns_is_refused(customer):
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    stray = Application.objects.create(
        name="Stray",
        user=customer,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    AccessToken.objects.create(
        application=stray,
        token="stray-token-value",
        scope="customers:read",
        expires=timezone.now() + timedelta(minutes=5),
    )

    assert api_as("stray-token-value").get("/api/v1/customers/").status_code == 401


def test_a_machine_client_has_no_me(acme_crm):
    assert api_as(client_token(acme_crm)).get("/api/v1/me/").status_code == 403


def test_personal_fields_are_stored_encrypted_and_email_is_found_by_its_blind_index(acme_crm):
    from django.db import connection

    api = api_as(client_token(acme_crm))
    created = api.post(
        "/api/v1/customers/",
        {"reference": "crm-7", "display_name": "Casey Jones", "email": "Casey@Example.com"},
    ).json()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT display_name, email FROM partners_customer WHERE id = %s", [created["id"]]
        )
        stored = b"".join(bytes(value) for value in cursor.fetchone())
    assert b"Casey" not in stored
    assert b"example" not in stored.lower()
    found = Customer.objects.get(email_index__matches="casey@example.com")
    assert found.pk == created["id"]
    assert api.get(f"/api/v1/customers/{found.pk}/").json()["display_name"] == "Casey Jones"


@pytest.mark.parametrize("position", ["x", "2026-12-04", "1e9", "\x00"])
def test_a_hand_made_cursor_with_a_bad_position_is_a_404_not_a_500(acme_crm, position):
    api = api_as(client_token(acme_crm))
    cursor = base64.b64encode(f"r=1&p={position}".encode()).decode()

    response = api.get("/api/v1/customers/", {"cursor": cursor})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
