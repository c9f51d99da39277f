"""A playbook run whose message is lost (the broker did not answer) is not lost with it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.siem import incidents, playbooks
from apps.siem.models import AddressRestriction, DetectionRule, Incident, SecurityEvent
from apps.siem.tasks import run_playbook
from tests.siem.helpers import ATTACKER_IP, emit_many
from tests.support import broker_down

pytestmark = pytest.mark.django_db


@pytest.fixture
def brute_force():
    # Shipped with the portal: blocks the address, alerts the team, resets attacked accounts.
    return DetectionRule.objects.get(name="brute-force-from-one-address")


def _raise(rule, events):
    return incidents.raise_incident(
        rule=rule, group_key=ATTACKER_IP, event_ids=[e.pk for e in events],
        title="Brute force", severity=SecurityEvent.Severity.HIGH,
    )  # fmt: skip


def test_a_run_lost_with_the_broker_is_published_again_and_acts(
    brute_force, monkeypatch, django_capture_on_commit_callbacks
):
    events = emit_many(3, ip=ATTACKER_IP, details={"identifier": "nobody@example.com"})
    with monkeypatch.context() as broken:
        broken.setattr(run_playbook, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            incident, created = _raise(brute_force, events)
    assert created
    incident.refresh_from_db()
    assert incident.playbook_requested_at is not None
    assert not AddressRestriction.objects.filter(ip=ATTACKER_IP).exists()

    # Too recent: its own message may still be on the way.
    assert incidents.run_waiting_playbooks() == 0

    # The broker is back and the worker runs what it receives (here, in this process).
    monkeypatch.setattr(run_playbook, "delay", playbooks.run)
    later = timezone.now() + incidents.PLAYBOOK_RETRY_AFTER + timedelta(seconds=1)
    assert incidents.run_waiting_playbooks(now=later) == 1

    assert AddressRestriction.objects.filter(ip=ATTACKER_IP).exists()
    incident.refresh_from_db()
    assert incident.playbook_requested_at is None
    assert incidents.run_waiting_playbooks(now=later) == 0


def test_a_request_newer_than_the_finished_run_stays_for_the_sweep(brute_force, monkeypatch):
    events = emit_many(3, ip=ATTACKER_IP, details={"identifier": "nobody@example.com"})
    monkeypatch.setattr(run_playbook, "delay", lambda incident_id: None)
    incident, _ = _raise(brute_force, events)
    # New events asked for another run after this one started: finishing must not forget it.
    Incident.objects.filter(pk=incident.pk).update(
        playbook_requested_at=timezone.now() + timedelta(seconds=5)
    )

    playbooks.run(incident.pk)

    incident.refresh_from_db()
    assert incident.playbook_requested_at is not None
