"""Partners and internal services send batches of events; each is judged on its own.

Callers: an anonymous client; Casey, a customer with no right to send events; the billing
service account, an internal caller granted ``security-events:ingest:all``; and Acme's
SOC connector, a partner client whose token holds ``events:write``.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.partners.models import Partner
from apps.siem.models import SecurityEvent
from tests.api.conftest import api_as, client_token, register
from tests.conftest import give_permissions, make_person

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def good_event(**overrides):
    return {
        "event_type": "auth.login.failure",
        "occurred_at": timezone.now().isoformat(),
        "ip": "198.51.100.7",
        "details": {"identifier": "casey@example.com"},
        **overrides,
    }


@pytest.fixture
def billing_service(db):
    account = make_person("billing-service@example.com")
    give_permissions(account, "security-events:ingest:all")
    api = APIClient()
    api.force_authenticate(account)
    return api


@pytest.fixture
def acme_soc(db):
    client = register(Partner.objects.create(name="Acme"), "Acme SOC", {"events:write"})
    return api_as(client_token(client, "events:write")), client


def test_an_anonymous_caller_is_refused():
    response = APIClient().post(URL, {"events": [good_event()]}, format="json")

    assert response.status_code == 401
    assert not SecurityEvent.objects.exists()


def test_a_customer_without_the_permission_is_refused(customer):
    api = APIClient()
    api.force_authenticate(customer)

    response = api.post(URL, {"events": [good_event()]}, format="json")

    assert response.status_code == 403
    assert not SecurityEvent.objects.exists()


def test_a_partner_token_without_events_write_is_refused(db):
    client = register(Partner.objects.create(name="Globex"), "Globex CRM", {"customers:read"})

    response = api_as(client_token(client)).post(URL, {"events": [good_event()]}, format="json")

    assert response.status_code == 403


def test_good_events_are_stored_and_bad_ones_rejected_one_by_one_with_reasons(billing_service):
    batch = [
        good_event(),
        good_event(event_type="no.such.type"),
        good_event(ip="999.1.1.1"),
        good_event(occurred_at=(timezone.now() + timedelta(hours=1)).isoformat()),
        "not an object",
        good_event(event_type="data.access", actor="client:crm", service="billing"),
    ]

    response = billing_service.post(URL, {"events": batch}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert [a["index"] for a in body["accepted"]] == [0, 5]
    reasons = {r["index"]: r["errors"] for r in body["rejected"]}
    assert "unknown event type" in reasons[1]["event_type"][0]
    assert "ip" in reasons[2]
    assert reasons[3]["occurred_at"] == ["lies in the future"]
    assert reasons[4] == {"event": ["must be an object"]}
    stored = SecurityEvent.objects.get(pk=body["accepted"][1]["id"])
    assert (stored.event_type, stored.actor, stored.service) == ("data.access", "client:crm",
                                                                  "billing")  # fmt: skip


def test_secrets_in_ingested_details_are_scrubbed(billing_service):
    event = good_event(details={"identifier": "casey@example.com", "api_key": "sk_live_123"})

    response = billing_service.post(URL, {"events": [event]}, format="json")

    stored = SecurityEvent.objects.get(pk=response.json()["accepted"][0]["id"])
    assert stored.details["api_key"] == "[redacted]"


def test_a_partner_may_not_write_as_the_portal_itself(acme_soc):
    api, client = acme_soc

    response = api.post(
        URL, {"events": [good_event(service="portal"), good_event()]}, format="json"
    )

    body = response.json()
    assert body["rejected"][0]["errors"]["service"] == [
        "is reserved for the portal's own services"
    ]
    stored = SecurityEvent.objects.get(pk=body["accepted"][0]["id"])
    assert stored.service == "partner"
    assert stored.details["reported_by"] == f"client:{client.client_id}"


def test_an_oversized_batch_is_refused_whole(billing_service, settings):
    settings.SIEM_INGEST_MAX_BATCH = 3

    response = billing_service.post(URL, {"events": [good_event()] * 4}, format="json")

    assert response.status_code == 400
    assert not SecurityEvent.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"events": []}, {"events": "x"}, [], {"events": [None]}, {"events": [[1]]}]
)
def test_malformed_envelopes_get_a_client_error_never_a_server_error(billing_service, body):
    response = billing_service.post(URL, body, format="json")

    assert response.status_code in {200, 400}
    assert not SecurityEvent.objects.exists()


def test_a_body_that_is_not_json_gets_a_client_error(billing_service):
    response = billing_service.post(URL, "{oops", content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "overrides",
    [
        {"details": {"identifier": "ca\u0000sey@example.com"}},
        {"details": {"note\u0000": ["a\u0000"]}},
        {"actor": "client:\u0000crm"},
        {"subject": "user:\u00007"},
        {"user_agent": "curl\u0000/8"},
        {"request_id": "req\u00001"},
        {"service": "bill\u0000ing"},
    ],
)
def test_a_nul_character_anywhere_in_an_event_gets_no_server_error(billing_service, overrides):
    # PostgreSQL's text and jsonb cannot hold U+0000; whatever a client sends must not turn
    # into a failed insert.
    response = billing_service.post(URL, {"events": [good_event(**overrides)]}, format="json")

    assert response.status_code in {200, 201, 207, 400}
    for event in SecurityEvent.objects.all():
        stored = [event.actor, event.subject, event.service, event.user_agent, event.request_id]
        assert "\u0000" not in json.dumps(event.details) + "".join(stored)
