"""Staff work security monitoring in the admin: rules, the rule tester, events, incidents."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.siem.events import emit
from apps.siem.incidents import raise_incident
from apps.siem.models import AddressRestriction, DetectionRule, Incident, IncidentEntry
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db

TESTER = "/admin/siem/detectionrule/tester/"

# Written by hand in the style of the SigmaHQ rule repository.
HAND_WRITTEN_RULE = """
title: Password spraying tool user agent
id: 9a4f1c2e-7d3b-4e5f-8a6b-1c2d3e4f5a6b
status: experimental
description: Detects failed logins sent by well-known spraying tools.
references:
    - https://example.invalid/spraying
author: Olivia
date: 2026-12-04
tags:
    - attack.credential-access
    - attack.t1110.003
logsource:
    product: portal
    service: auth
detection:
    selection:
        event_type: auth.login.failure
        user_agent|contains:
            - 'python-requests'
            - 'Hydra'
    filter_scanner:
        ip|cidr: '10.0.0.0/8'
    condition: selection and not filter_scanner
falsepositives:
    - Our own monitoring scripts
level: medium
"""


def run_tester(client, samples, rule=""):
    response = client.post(TESTER, {"sigma_yaml": rule, "samples": json.dumps(samples)})
    assert response.status_code == 200
    return response


def test_a_hand_written_sigmahq_style_rule_fires_on_a_matching_sample(admin_client):
    failure = {"event_type": "auth.login.failure", "ip": "203.0.113.9"}
    samples = [
        {**failure, "user_agent": "python-requests/2.31"},
        {**failure, "user_agent": "Firefox/130"},
        {**failure, "user_agent": "Hydra v9", "ip": "10.1.2.3"},
    ]

    response = run_tester(admin_client, samples, HAND_WRITTEN_RULE)

    result = response.context["results"][0]
    assert result["fires"] is True
    assert result["matched"] == [0]
    assert "FIRES" in response.content.decode()


def test_the_tester_shows_which_stored_rules_fire_on_pasted_events(admin_client):
    failures = [{"event_type": "auth.login.failure", "service": "portal", "ip": "203.0.113.9"}] * 6

    response = run_tester(admin_client, failures)

    fired = {r["rule"] for r in response.context["results"] if r["fires"]}
    assert fired == {"brute-force-from-one-address"}


def test_the_tester_reports_a_rule_that_does_not_parse(admin_client):
    response = admin_client.post(TESTER, {"sigma_yaml": "title: x\ndetection: 3", "samples": "[]"})

    assert "does not parse" in response.content.decode()


def test_the_rule_editor_refuses_yaml_that_is_not_a_sigma_rule(admin_client):
    rule = DetectionRule.objects.get(name="brute-force-from-one-address")

    response = admin_client.post(
        f"/admin/siem/detectionrule/{rule.pk}/change/",
        {"name": rule.name, "enabled": "on", "severity": "high", "sigma_yaml": "- not: [a rule",
         "playbook": ["block_address"], "playbook_options": "{}"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "does not parse" in response.content.decode()
    rule.refresh_from_db()
    assert "correlation" in rule.sigma_yaml


def test_a_customer_cannot_open_the_tester(client, customer):
    client.force_login(customer)

    response = client.get(TESTER)

    assert response.status_code == 302


# --- Event browser -----------------------------------------------------------------------------


@pytest.fixture
def events():
    return [
        emit("auth.login.failure", ip="203.0.113.9", details={"identifier": "casey@example.com"}),
        emit("auth.login.success", actor="user:7", ip="198.51.100.1"),
        emit("data.access", actor="user:7", ip="198.51.100.1"),
    ]


def test_the_event_browser_filters_by_actor_and_address(client, compliance_officer, events):
    force_login_verified(client, compliance_officer)

    by_actor = client.get("/admin/siem/securityevent/", {"actor": "user:7"})
    by_ip = client.get("/admin/siem/securityevent/", {"ip": "203.0.113.9"})

    assert by_actor.context["cl"].result_count == 2
    assert by_ip.context["cl"].result_count == 1


def test_the_csv_export_keeps_the_browsers_filters(client, compliance_officer, events):
    force_login_verified(client, compliance_officer)
    since = (timezone.now() - timedelta(minutes=5)).isoformat()

    response = client.get(
        "/admin/siem/securityevent/export/",
        {
            "format": "csv",
            "actor": "user:7",
            "event_type": "data.access",
            "occurred_at__gte": since,
        },
    )

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["id"] for row in rows] == [str(events[2].pk)]
    assert response["Content-Disposition"].startswith("attachment;")


def test_the_json_and_ocsf_exports_hold_every_filtered_event(client, compliance_officer, events):
    force_login_verified(client, compliance_officer)

    plain = client.get("/admin/siem/securityevent/export/", {"format": "json", "actor": "user:7"})
    ocsf = client.get("/admin/siem/securityevent/export/", {"format": "ocsf", "actor": "user:7"})

    assert {row["event_type"] for row in json.loads(plain.content)} == {
        "auth.login.success", "data.access",
    }  # fmt: skip
    # Authentication for the login, Datastore Activity for the data access.
    assert {row["class_uid"] for row in json.loads(ocsf.content)} == {3002, 6005}


def test_a_csv_cell_that_looks_like_a_formula_is_exported_as_text(client, compliance_officer):
    emit("auth.login.failure", user_agent='=HYPERLINK("http://example.invalid")')
    force_login_verified(client, compliance_officer)

    response = client.get("/admin/siem/securityevent/export/", {"format": "csv"})

    assert "'=HYPERLINK" in response.content.decode()


def test_an_export_with_a_malformed_filter_is_a_bad_request(client, compliance_officer):
    force_login_verified(client, compliance_officer)

    response = client.get(
        "/admin/siem/securityevent/export/", {"format": "csv", "occurred_at__gte": "yesterday"}
    )

    assert response.status_code == 400


def test_a_customer_cannot_export_events(client, customer, events):
    client.force_login(customer)

    response = client.get("/admin/siem/securityevent/export/", {"format": "json"})

    assert response.status_code == 302


# --- Incidents and the blocklist -----------------------------------------------------------------


@pytest.fixture
def incident(events):
    rule = DetectionRule.objects.get(name="brute-force-from-one-address")
    opened, _ = raise_incident(
        rule=rule, group_key="ip=203.0.113.9", event_ids=[events[0].pk], title="Brute force",
        severity="high",
    )  # fmt: skip
    return opened


def test_acknowledging_an_incident_puts_it_on_the_timeline_and_times_the_response(
    admin_client, admin_user, incident
):
    admin_client.post(
        "/admin/siem/incident/",
        {"action": "acknowledge", "_selected_action": [incident.pk]},
    )

    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.first_action_at is not None
    entry = incident.timeline.filter(kind=IncidentEntry.Kind.STATUS).get()
    assert entry.actor == f"user:{admin_user.pk}"


def test_a_new_firing_for_the_same_rule_and_group_joins_the_open_incident(incident, events):
    again, created = raise_incident(
        rule=incident.rule, group_key=incident.group_key, event_ids=[events[1].pk],
        title="Brute force", severity="high",
    )  # fmt: skip

    assert not created
    assert again.pk == incident.pk
    assert incident.events.count() == 2
    assert Incident.objects.count() == 1


def test_a_block_added_in_the_admin_is_enforced_until_it_expires(admin_client, client):
    admin_client.post(
        "/admin/siem/addressrestriction/add/",
        {"ip": "192.0.2.44", "kind": "block", "until_0": "2099-01-01", "until_1": "00:00:00",
         "reason": "seen scanning"},
    )  # fmt: skip

    assert client.get("/healthz", REMOTE_ADDR="192.0.2.44").status_code == 403
    AddressRestriction.objects.update(until=timezone.now() - timedelta(seconds=1))
    assert client.get("/healthz", REMOTE_ADDR="192.0.2.44").status_code != 403


def test_a_rate_limited_address_gets_429_past_its_budget(client):
    AddressRestriction.objects.create(
        ip="192.0.2.45", kind="rate_limit", requests_per_minute=3,
        until=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip

    codes = [
        client.get("/accounts/login/", REMOTE_ADDR="192.0.2.45").status_code for _ in range(5)
    ]

    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_api_calls_are_recorded_for_the_flood_rule_when_switched_on(client, settings):
    from apps.siem.models import SecurityEvent

    settings.SIEM_RECORD_API_REQUESTS = True
    client.get("/api/v1/events/", REMOTE_ADDR="192.0.2.46")
    client.get("/accounts/login/", REMOTE_ADDR="192.0.2.46")

    recorded = SecurityEvent.objects.get(event_type="api.request")
    assert recorded.ip == "192.0.2.46"
    assert recorded.details["method"] == "GET"


VALUE_COUNT_RULE = """
title: Failed portal login
name: failed_login_any
logsource: {product: portal, service: auth}
detection:
  selection:
    event_type: auth.login.failure
  condition: selection
---
title: One address trying many accounts
correlation:
  type: value_count
  rules: [failed_login_any]
  group-by: [ip]
  timespan: 10m
  condition:
    gte: 2
    field: details.identifier
level: high
"""


@pytest.mark.parametrize(
    ("accounts", "fires"), [(["casey", "casey"], False), (["casey", "sam"], True)]
)
def test_a_value_count_rule_counts_distinct_values_in_the_tester(admin_client, accounts, fires):
    samples = [
        {"event_type": "auth.login.failure", "ip": "203.0.113.9",
         "details": {"identifier": f"{name}@example.com"}}
        for name in accounts
    ]  # fmt: skip

    response = run_tester(admin_client, samples, VALUE_COUNT_RULE)

    assert response.context["results"][0]["fires"] is fires
