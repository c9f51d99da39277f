"""Staff read security events in the admin; nobody edits or deletes them there."""

import pytest

from apps.siem.events import emit
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(customer):
    return emit("auth.login.failure", details={"identifier": "casey@example.com"})


def test_a_compliance_officer_can_read_the_event_list_and_an_event(
    client, compliance_officer, event
):
    force_login_verified(client, compliance_officer)

    listing = client.get("/admin/siem/securityevent/")
    detail = client.get(f"/admin/siem/securityevent/{event.pk}/change/")

    assert listing.status_code == 200
    assert "auth.login.failure" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


def test_nobody_can_change_or_delete_an_event_through_the_admin(client, admin_user, event):
    force_login_verified(client, admin_user)

    client.post(f"/admin/siem/securityevent/{event.pk}/change/", {"event_type": "x"})
    deleted = client.post(f"/admin/siem/securityevent/{event.pk}/delete/", {"post": "yes"})

    event.refresh_from_db()
    assert event.event_type == "auth.login.failure"
    assert deleted.status_code == 403


def test_a_customer_cannot_read_events(client, customer, event):
    client.force_login(customer)

    response = client.get("/admin/siem/securityevent/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_secret_looking_details_are_scrubbed_before_storage(customer):
    stored = emit(
        "auth.login.failure",
        details={"identifier": "casey@example.com", "password": "hunter2hunter2",
                 "note": "card 4111 1111 1111 1111 seen"},
    )  # fmt: skip

    stored.refresh_from_db()
    assert stored.details["password"] == "[redacted]"
    assert "4111" not in stored.details["note"]
    assert stored.details["identifier"] == "casey@example.com"


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="unknown security event type"):
        emit("auth.logn.failure")
