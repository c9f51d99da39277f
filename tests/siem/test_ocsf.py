"""Every event type the portal records, and its incidents, export as OCSF the schema accepts.

The types are read from the event catalogue (``apps.siem.events.EVENT_TYPES``, which every app
extends at start-up), so an app that registers a new type without an OCSF mapping fails here.
"""

import pytest
from django.utils import timezone
from ocsf_emitter import InvalidFindingError

from apps.siem import chain, forwarding, ocsf
from apps.siem.events import EVENT_TYPES, emit, register_event_type
from apps.siem.incidents import assign, change_status, raise_incident
from apps.siem.models import DetectionRule, Incident

pytestmark = pytest.mark.django_db

EVERY_TYPE = sorted(EVENT_TYPES)
# Details as the portal's own emitters write them, so that each class's optional parts are
# exercised too (the bare variant below checks that nothing in them is needed).
SAMPLE_DETAILS = {
    "identifier": "casey@example.com", "method": "GET", "status_code": 200, "path": "/api/v1/me/",
    "resource": "customers", "action": "read", "object": "1234", "role": "customer",
    "binding": 7, "reason": "test", "incident": 3, "request": 11, "channel": "api",
}  # fmt: skip


def sealed(event):
    chain.seal_pending()
    event.refresh_from_db()
    return event


def test_every_registered_event_type_has_an_ocsf_class():
    missing = sorted(set(EVENT_TYPES) - set(ocsf.EVENT_CLASSES))

    assert missing == [], f"add these to apps.siem.ocsf.EVENT_CLASSES: {missing}"


@pytest.mark.parametrize("event_type", EVERY_TYPE)
def test_a_full_event_of_each_type_is_valid_ocsf_of_its_class(event_type, customer):
    event = sealed(
        emit(event_type, actor=customer, subject="user:99", ip="198.51.100.7",
             user_agent="Firefox", details=SAMPLE_DETAILS)
    )  # fmt: skip

    payload = forwarding.validated_ocsf(event)

    mapping = ocsf.EVENT_CLASSES[event_type]
    assert payload["class_uid"] == mapping.class_uid
    assert payload["type_uid"] == mapping.class_uid * 100 + payload["activity_id"]
    assert payload["metadata"]["uid"] == str(event.chain_seq)
    assert payload["src_endpoint"]["ip"] == "198.51.100.7"


@pytest.mark.parametrize("event_type", EVERY_TYPE)
def test_a_bare_event_of_each_type_is_valid_ocsf_of_its_class(event_type):
    # No actor, no address, no details: what a task or an anonymous request may record.
    event = emit(event_type)

    payload = forwarding.validated_ocsf(event)

    assert payload["class_uid"] == ocsf.EVENT_CLASSES[event_type].class_uid


def test_a_type_without_a_mapping_is_refused_by_validation():
    register_event_type("test.unmapped.type", "low", "success")
    try:
        event = emit("test.unmapped.type")
        with pytest.raises(InvalidFindingError, match="no OCSF mapping"):
            forwarding.validated_ocsf(event)
    finally:
        EVENT_TYPES.pop("test.unmapped.type")


def test_api_requests_take_their_activity_from_the_method():
    get = forwarding.validated_ocsf(emit("api.request", details={"method": "GET"}))
    delete = forwarding.validated_ocsf(emit("api.request", details={"method": "DELETE"}))

    assert (get["class_name"], get["activity_name"]) == ("API Activity", "Read")
    assert delete["type_uid"] == 600304


def test_a_refused_write_is_api_activity_that_failed(customer):
    event = emit(
        "auth.unauthorized.access", actor=customer,
        details={"resource": "customers", "action": "write", "object": "12", "path": "/x/"},
    )  # fmt: skip

    payload = forwarding.validated_ocsf(event)

    assert payload["activity_name"] == "Update"
    assert payload["status"] == "Failure"
    assert payload["actor"]["user"]["uid"] == f"user:{customer.pk}"


def test_second_factor_events_are_authentication_with_mfa_or_account_changes(customer):
    challenge = forwarding.validated_ocsf(emit("auth.mfa.challenge.success", actor=customer))
    added = forwarding.validated_ocsf(emit("auth.mfa.device.added", actor=customer))

    assert (challenge["class_uid"], challenge["is_mfa"]) == (3002, True)
    assert (added["class_name"], added["activity_name"]) == ("Account Change", "MFA Factor Enable")


def test_an_export_of_an_event_with_a_type_no_longer_registered_still_answers():
    # A type an app stopped registering may still be stored: it exports as a Base Event.
    register_event_type("test.retired.type", "low", "success")
    event = emit("test.retired.type")
    EVENT_TYPES.pop("test.retired.type")

    payload, model = forwarding.to_ocsf(event)

    assert (payload["class_uid"], model) == (0, None)


# --- Incidents ------------------------------------------------------------------------------


@pytest.fixture
def incident(customer):
    events = [emit("auth.login.failure", ip="203.0.113.9") for _ in range(2)]
    opened, _ = raise_incident(
        rule=DetectionRule.objects.get(name="brute-force-from-one-address"),
        group_key="ip=203.0.113.9", event_ids=[e.pk for e in events], title="Brute force",
        severity="high",
    )  # fmt: skip
    return opened


def test_a_new_incident_is_a_valid_detection_finding(incident):
    payload = forwarding.validated_incident_ocsf(incident)

    assert (payload["class_name"], payload["activity_name"]) == ("Detection Finding", "Create")
    assert payload["finding_info"]["uid"] == f"incident-{incident.pk}"
    assert payload["finding_info"]["related_events_count"] == 2
    assert payload["finding_info"]["analytic"]["name"] == "brute-force-from-one-address"
    assert (payload["status"], payload["severity"]) == ("New", "High")


def test_a_worked_and_a_resolved_incident_are_valid_detection_findings(incident, customer):
    assign(incident, customer, actor="test")
    incident.refresh_from_db()
    worked = forwarding.validated_incident_ocsf(incident)
    change_status(incident, Incident.Status.RESOLVED, actor="test")
    incident.refresh_from_db()
    resolved = forwarding.validated_incident_ocsf(incident)

    assert worked["activity_name"] == "Update"
    assert worked["unmapped"]["assignee"] == f"user:{customer.pk}"
    assert (resolved["activity_name"], resolved["status"]) == ("Close", "Resolved")


def test_an_incident_raised_without_a_rule_is_a_valid_detection_finding():
    incident = Incident.objects.create(
        title="Chain broken", severity="critical", detected_at=timezone.now()
    )

    payload = forwarding.validated_incident_ocsf(incident)

    assert payload["severity_id"] == 5
    assert "analytic" not in payload["finding_info"]


def test_the_incident_queue_exports_what_it_lists_as_ocsf(admin_client, incident):
    answer = admin_client.post(
        "/admin/siem/incident/", {"action": "export_ocsf", "_selected_action": [incident.pk]}
    )

    assert answer.status_code == 200
    [finding] = answer.json()
    assert finding["finding_info"]["uid"] == f"incident-{incident.pk}"
    assert finding == forwarding.validated_incident_ocsf(incident)
