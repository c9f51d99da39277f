"""Which accounts a playbook acts on when the events name them only by what was typed at login."""

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from apps.siem import playbooks
from apps.siem.events import emit
from apps.siem.models import DetectionRule, Incident, SecurityEvent
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

LOCK = DetectionRule.Action.LOCK_ACCOUNT
RESET = DetectionRule.Action.FORCE_PASSWORD_RESET
ATTACKER = "203.0.113.66"


def incident_of(events):
    incident = Incident.objects.create(
        title="Brute force", severity=SecurityEvent.Severity.HIGH, detected_at=timezone.now()
    )
    incident.events.set(events)
    return incident


def test_failures_typed_as_a_second_address_target_the_account_that_holds_it(customer):
    # The login counts failures under any address of the account (case 8); so must the lock.
    EmailAddress.objects.create(user=customer, email="casey.alias@example.com", verified=True)
    events = [
        emit("auth.login.failure", details={"identifier": "casey.alias@example.com"})
        for _ in range(3)
    ]

    targets = playbooks._targets(incident_of(events), LOCK, playbooks.DEFAULT_OPTIONS)

    assert targets == [f"user:{customer.pk}"]


def test_failures_typed_as_the_primary_address_target_its_account(customer):
    events = [emit("auth.login.failure", details={"identifier": "casey@example.com"})]

    targets = playbooks._targets(incident_of(events), LOCK, playbooks.DEFAULT_OPTIONS)

    assert targets == [f"user:{customer.pk}"]


def test_failures_for_an_address_nobody_holds_target_no_account(customer):
    events = [emit("auth.login.failure", details={"identifier": "nobody@example.com"})]

    targets = playbooks._targets(incident_of(events), LOCK, playbooks.DEFAULT_OPTIONS)

    assert targets == []


def test_one_wrong_guess_per_account_resets_no_password(customer):
    # Six guesses at six accounts must not switch off six people's passwords.
    people = [customer] + [make_person(f"person{n}@example.com") for n in range(5)]
    events = [
        emit("auth.login.failure", ip=ATTACKER, details={"identifier": person.email})
        for person in people
    ]

    targets = playbooks._targets(incident_of(events), RESET, playbooks.DEFAULT_OPTIONS)

    assert targets == []


def test_an_account_tried_again_and_again_has_its_password_reset(customer):
    sam = make_person("sam@example.com")
    events = [
        emit("auth.login.failure", ip=ATTACKER, details={"identifier": email})
        for email in ["casey@example.com"] * 3 + ["sam@example.com"] * 2
    ]

    targets = playbooks._targets(incident_of(events), RESET, playbooks.DEFAULT_OPTIONS)

    assert targets == [f"user:{customer.pk}"]
    assert f"user:{sam.pk}" not in targets


def test_an_account_signed_in_to_from_the_attacking_address_has_its_password_reset(customer):
    sam = make_person("sam@example.com")
    events = [
        emit("auth.login.failure", ip=ATTACKER, details={"identifier": "casey@example.com"}),
        emit("auth.login.failure", ip=ATTACKER, details={"identifier": "sam@example.com"}),
    ]
    emit("auth.login.success", actor=sam, ip=ATTACKER)
    emit("auth.login.success", actor=customer, ip="198.51.100.20")

    targets = playbooks._targets(incident_of(events), RESET, playbooks.DEFAULT_OPTIONS)

    assert targets == [f"user:{sam.pk}"]
