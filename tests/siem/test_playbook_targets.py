"""Which accounts a playbook acts on when the events name them only by what was typed at login."""

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from apps.siem import playbooks
from apps.siem.events import emit
from apps.siem.models import DetectionRule, Incident, SecurityEvent

pytestmark = pytest.mark.django_db


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

    targets = playbooks._targets(incident_of(events), DetectionRule.Action.LOCK_ACCOUNT)

    assert targets == [f"user:{customer.pk}"]


def test_failures_typed_as_the_primary_address_target_its_account(customer):
    events = [emit("auth.login.failure", details={"identifier": "casey@example.com"})]

    targets = playbooks._targets(incident_of(events), DetectionRule.Action.LOCK_ACCOUNT)

    assert targets == [f"user:{customer.pk}"]


def test_failures_for_an_address_nobody_holds_target_no_account(customer):
    events = [emit("auth.login.failure", details={"identifier": "nobody@example.com"})]

    targets = playbooks._targets(incident_of(events), DetectionRule.Action.LOCK_ACCOUNT)

    assert targets == []
