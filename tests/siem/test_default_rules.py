"""Each shipped rule fires on its pattern and stays quiet on traffic just below its threshold.

Detection is called as the worker calls it (``detect`` with event ids); the worker path itself
is covered in test_playbooks.py.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.siem.detection import detect
from apps.siem.events import emit
from apps.siem.models import DetectionRule, Incident, SecurityEvent
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
LONDON, NEW_YORK, SYDNEY = "81.2.69.160", "8.8.8.8", "1.1.1.1"


def events(count, event_type, *, start=None, step=timedelta(seconds=1), **fields):
    """``count`` portal events of one type, a step apart, stored in one insert."""
    start = start or timezone.now() - step * count
    rows = [
        SecurityEvent(
            occurred_at=start + step * i,
            event_type=event_type,
            service="portal",
            severity="low",
            outcome="failure",
            **fields,
        )
        for i in range(count)
    ]
    return [e.pk for e in SecurityEvent.objects.bulk_create(rows)]


def incidents_of(rule_name):
    return Incident.objects.filter(rule__name=rule_name)


def failed_logins(count, *, ip=ATTACKER, identifier="casey@example.com", **kwargs):
    return events(count, "auth.login.failure", ip=ip, details={"identifier": identifier}, **kwargs)


# --- More than 5 failed logins in 5 minutes from one address --------------------------------


def test_six_failed_logins_from_one_address_in_five_minutes_open_a_brute_force_incident():
    detect(failed_logins(6, step=timedelta(seconds=40)))

    incident = incidents_of("brute-force-from-one-address").get()
    assert incident.group_key == f"ip={ATTACKER}"
    assert incident.severity == "high"
    assert incident.events.count() == 6


def test_five_failed_logins_from_one_address_open_nothing():
    detect(failed_logins(5))

    assert not incidents_of("brute-force-from-one-address").exists()


def test_six_failed_logins_spread_over_more_than_five_minutes_open_nothing():
    detect(failed_logins(6, step=timedelta(seconds=61)))

    assert not incidents_of("brute-force-from-one-address").exists()


def test_failed_logins_arriving_one_by_one_are_counted_across_deliveries():
    ids = failed_logins(6)
    for event_id in ids:
        detect([event_id])
    detect(ids)  # a redelivered batch counts nothing twice

    incident = incidents_of("brute-force-from-one-address").get()
    assert incident.events.count() == 6


def test_failed_logins_a_partner_reports_for_its_own_service_trigger_no_portal_rule():
    rows = [
        SecurityEvent(occurred_at=timezone.now(), event_type="auth.login.failure", ip=ATTACKER,
                      service="partner")
        for _ in range(10)
    ]  # fmt: skip
    detect([e.pk for e in SecurityEvent.objects.bulk_create(rows)])

    assert not Incident.objects.exists()


# --- More than 1000 API calls in 1 minute from one address ----------------------------------


def test_1001_api_calls_in_a_minute_from_one_address_open_a_rate_limit_incident():
    detect(events(1001, "api.request", ip=ATTACKER, step=timedelta(milliseconds=50)))

    incident = incidents_of("api-flood-from-one-address").get()
    assert incident.severity == "medium"


def test_1000_api_calls_in_a_minute_open_nothing():
    detect(events(1000, "api.request", ip=ATTACKER, step=timedelta(milliseconds=50)))

    assert not incidents_of("api-flood-from-one-address").exists()


# --- Admin login from a country not seen before for that admin --------------------------------


@pytest.fixture
def olivia_from_london(compliance_officer):
    emit("auth.login.success", actor=compliance_officer, ip=LONDON)
    detect(list(SecurityEvent.objects.values_list("pk", flat=True)))
    return compliance_officer


def test_an_admin_login_from_a_new_country_opens_a_high_incident(olivia_from_london):
    login = emit("auth.login.success", actor=olivia_from_london, ip=NEW_YORK)
    detect([login.pk])

    incident = incidents_of("admin-login-from-new-country").get()
    assert incident.severity == "high"
    assert list(incident.events.values_list("pk", flat=True)) == [login.pk]


def test_an_admin_login_from_a_country_seen_before_opens_nothing(olivia_from_london):
    detect([emit("auth.login.success", actor=olivia_from_london, ip=LONDON).pk])

    assert not incidents_of("admin-login-from-new-country").exists()


def test_an_admins_very_first_login_sets_the_baseline_and_opens_nothing(compliance_officer):
    detect([emit("auth.login.success", actor=compliance_officer, ip=SYDNEY).pk])

    assert not incidents_of("admin-login-from-new-country").exists()


def test_a_customer_login_from_a_new_country_opens_nothing(customer):
    detect([emit("auth.login.success", actor=customer, ip=LONDON).pk])
    detect([emit("auth.login.success", actor=customer, ip=NEW_YORK).pk])

    assert not incidents_of("admin-login-from-new-country").exists()


def test_processing_the_new_country_login_twice_still_fires_once(olivia_from_london):
    login = emit("auth.login.success", actor=olivia_from_london, ip=NEW_YORK)
    detect([login.pk])
    detect([login.pk])

    assert incidents_of("admin-login-from-new-country").count() == 1


# --- More than 10,000 data accesses in 1 hour by one actor -----------------------------------


def test_10001_data_accesses_in_an_hour_by_one_actor_alert_the_security_team():
    detect(events(10_001, "data.access", actor="client:crm", step=timedelta(milliseconds=300)))

    incident = incidents_of("mass-data-access-by-one-actor").get()
    assert incident.group_key == "actor=client:crm"
    assert incident.severity == "medium"


def test_10000_data_accesses_in_an_hour_open_nothing():
    detect(events(10_000, "data.access", actor="client:crm", step=timedelta(milliseconds=300)))

    assert not incidents_of("mass-data-access-by-one-actor").exists()


# --- More than 10 failed logins for one account in 30 minutes, from any address ---------------


def spread_failures(count):
    return [
        failed_logins(1, ip=f"198.51.100.{i + 1}", start=timezone.now() - timedelta(minutes=29)
                      + timedelta(minutes=2 * i))[0]
        for i in range(count)
    ]  # fmt: skip


def test_eleven_failed_logins_for_one_account_from_many_addresses_open_a_lock_incident():
    make_person("casey@example.com")
    ids = spread_failures(11)
    detect(ids)

    incident = incidents_of("password-spraying-one-account").get()
    assert incident.group_key == "details.identifier=casey@example.com"
    assert incident.severity == "high"
    assert not incidents_of("brute-force-from-one-address").exists()


def test_ten_failed_logins_for_one_account_in_thirty_minutes_open_nothing():
    detect(spread_failures(10))

    assert not incidents_of("password-spraying-one-account").exists()


def test_a_disabled_rule_never_fires():
    DetectionRule.objects.filter(name="brute-force-from-one-address").update(enabled=False)

    detect(failed_logins(20))

    assert not incidents_of("brute-force-from-one-address").exists()
