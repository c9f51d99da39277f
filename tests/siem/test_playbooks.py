"""The brute-force playbook, run by a real worker: block, alert, force resets, once each."""

import time

import pytest
from django.urls import reverse

from apps.core.mail import queue_email
from apps.siem.models import AddressRestriction, Incident, PlaybookAction
from apps.siem.playbooks import SIGNATURE_HEADER, sign_webhook
from tests.conftest import SECURITY_TEAM_EMAIL, SIEM_WEBHOOK_SECRET, make_person

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ATTACKER = "203.0.113.66"
BYSTANDER = "198.51.100.20"


def wait_until(condition, *, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout} s")


def fail_login(client, email):
    return client.post(
        reverse("account_login"), {"login": email, "password": "not the password"},
        REMOTE_ADDR=ATTACKER,
    )  # fmt: skip


def settle(mailbox):
    """Wait until the worker has worked through everything queued so far."""
    queue_email(recipients=["witness@example.com"], subject="witness", body_text="-")
    mailbox.wait_for("witness@example.com")


def mails_to(mailbox, address):
    return [m for m in mailbox.messages() if address in m["To"]]


@pytest.fixture
def brute_force(client, celery_worker, mailbox, alert_webhook):
    """Six failed logins from one address against Casey and Sam, then the playbook's result."""
    casey = make_person("casey@example.com")
    sam = make_person("sam@example.com")
    for email in ["casey@example.com", "sam@example.com"] * 3:
        assert fail_login(client, email).status_code == 200

    wait_until(
        lambda: PlaybookAction.objects.filter(state="done").count() == 4,
        what="block, alert and two resets done",
    )
    return casey, sam


def test_the_next_request_from_a_brute_forcing_address_is_refused(client, brute_force):
    refused = client.get(reverse("account_login"), REMOTE_ADDR=ATTACKER)
    api_refused = client.get("/api/v1/events/", REMOTE_ADDR=ATTACKER)
    allowed = client.get(reverse("account_login"), REMOTE_ADDR=BYSTANDER)

    assert refused.status_code == 403
    assert api_refused.status_code == 403
    assert api_refused.json() == {"detail": "This address is blocked."}
    assert allowed.status_code == 200


def test_brute_force_alerts_the_team_by_email_and_signed_webhook(
    brute_force, mailbox, alert_webhook
):
    incident = Incident.objects.get(rule__name="brute-force-from-one-address")

    alert = mailbox.wait_for(SECURITY_TEAM_EMAIL)
    (delivery,) = alert_webhook.wait_for(1)

    assert f"Incident #{incident.pk}" in alert.get_payload()
    assert delivery["json"]["incident"] == incident.pk
    headers = delivery["headers"]
    expected = sign_webhook(delivery["body"], headers["X-Portal-Timestamp"], SIEM_WEBHOOK_SECRET)
    assert headers[SIGNATURE_HEADER] == expected


def test_brute_force_forces_a_password_reset_of_each_targeted_account(brute_force, mailbox):
    casey, sam = brute_force

    casey.refresh_from_db()
    sam.refresh_from_db()
    assert not casey.has_usable_password()
    assert not sam.has_usable_password()
    assert "new password" in mailbox.wait_for("casey@example.com")["Subject"]
    assert "new password" in mailbox.wait_for("sam@example.com")["Subject"]


def test_every_action_is_on_the_timeline_and_time_to_first_action_is_recorded(brute_force):
    incident = Incident.objects.get(rule__name="brute-force-from-one-address")

    texts = list(incident.timeline.values_list("text", flat=True))
    assert texts[0] == "rule brute-force-from-one-address fired"
    assert sum(t.startswith("block_address") for t in texts) == 1
    assert sum(t.startswith("alert_security_team") for t in texts) == 1
    assert sum(t.startswith("force_password_reset") for t in texts) == 2
    assert incident.first_action_at is not None
    assert incident.time_to_first_action.total_seconds() >= 0


def test_a_playbook_delivered_twice_acts_once(brute_force, mailbox, alert_webhook):
    from apps.siem.tasks import process_events, run_playbook

    incident = Incident.objects.get(rule__name="brute-force-from-one-address")
    run_playbook.delay(incident.pk)
    run_playbook.delay(incident.pk)
    process_events.delay(list(incident.events.values_list("pk", flat=True)))
    settle(mailbox)
    time.sleep(0.5)

    assert AddressRestriction.objects.filter(ip=ATTACKER).count() == 1
    assert PlaybookAction.objects.count() == 4
    assert Incident.objects.count() == 1
    assert len(mails_to(mailbox, SECURITY_TEAM_EMAIL)) == 1
    assert len(mails_to(mailbox, "casey@example.com")) == 1
    assert len(alert_webhook.deliveries) == 1
