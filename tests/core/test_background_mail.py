"""Account mail goes through a real Celery worker process, and only after commit."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.mail import queue_email
from apps.core.models import OutboundEmail
from tests.conftest import message_text
from tests.support import STRONG_PASSWORD, broker_down

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_sends_the_verification_email_of_a_sign_up(client, celery_worker, mailbox):
    response = client.post(
        reverse("account_signup"),
        {"email": "new.person@example.com", "password1": STRONG_PASSWORD,
         "password2": STRONG_PASSWORD},
    )  # fmt: skip
    assert response.status_code == 302

    message = mailbox.wait_for("new.person@example.com")

    assert "/accounts/confirm-email/" in message_text(message)
    sent = OutboundEmail.objects.get()
    assert sent.state == OutboundEmail.State.SENT
    assert sent.body_text == "", "the one-time link must not be kept after delivery"


def test_a_task_queued_in_a_rolled_back_transaction_never_runs(celery_worker, mailbox):
    class Abandon(Exception):
        pass

    def queue_then_fail():
        with transaction.atomic():
            queue_email(recipients=["ghost@example.com"], subject="never", body_text="never")
            raise Abandon

    with pytest.raises(Abandon):
        queue_then_fail()

    # A committed message queued afterwards proves the worker is consuming; once it has
    # arrived, the abandoned one (queued earlier, on the same queue) would have arrived too.
    queue_email(recipients=["witness@example.com"], subject="after", body_text="after")
    mailbox.wait_for("witness@example.com")
    time.sleep(1)

    assert not any("ghost@example.com" in m["To"] for m in mailbox.messages())
    assert not OutboundEmail.objects.filter(subject="never").exists()


def test_a_task_queued_in_a_committed_transaction_sees_its_row(celery_worker, mailbox):
    with transaction.atomic():
        queue_email(recipients=["late@example.com"], subject="hello", body_text="body")
        # Still inside the transaction: nothing may have been handed to the worker yet.
        time.sleep(0.5)
        assert mailbox.messages() == []

    message = mailbox.wait_for("late@example.com")
    assert message["Subject"] == "hello"


def test_delivering_the_same_message_twice_sends_it_once(celery_worker, mailbox):
    from apps.core.tasks import deliver_email

    message = queue_email(recipients=["once@example.com"], subject="once", body_text="x")
    deliver_email.delay(message.pk)

    mailbox.wait_for("once@example.com")
    time.sleep(1)
    assert sum("once@example.com" in m["To"] for m in mailbox.messages()) == 1


def test_mail_queued_while_the_broker_is_down_is_sent_once_the_sweep_runs(
    client, celery_worker, mailbox, monkeypatch, settings
):
    from apps.core.tasks import deliver_email, deliver_waiting_emails

    # The sign-up commits; publishing its confirmation fails: no 500, the mail waits.
    with monkeypatch.context() as broken:
        broken.setattr(deliver_email, "delay", broker_down)
        response = client.post(
            reverse("account_signup"),
            {"email": "patient@example.com", "password1": STRONG_PASSWORD,
             "password2": STRONG_PASSWORD},
        )  # fmt: skip
    assert response.status_code == 302
    waiting = OutboundEmail.objects.get()
    assert (waiting.state, waiting.attempts) == (OutboundEmail.State.QUEUED, 0)

    # The broker is back: the sweep publishes what was never tried, and the worker sends it.
    settings.PORTAL_OUTBOX_REPUBLISH_AFTER = 0
    assert deliver_waiting_emails() == 1

    message = mailbox.wait_for("patient@example.com")
    assert "/accounts/confirm-email/" in message_text(message)


def test_the_sweep_leaves_recent_tried_and_sent_messages_alone(monkeypatch, settings):
    from apps.core.tasks import deliver_email, deliver_waiting_emails

    published = []
    monkeypatch.setattr(deliver_email, "delay", published.append)
    settings.PORTAL_OUTBOX_REPUBLISH_AFTER = 120
    with monkeypatch.context() as broken:
        broken.setattr(deliver_email, "delay", broker_down)
        recent = queue_email(recipients=["recent@example.com"], subject="r", body_text="r")
        lost = queue_email(recipients=["lost@example.com"], subject="l", body_text="l")
        retried = queue_email(recipients=["retried@example.com"], subject="t", body_text="t")
        sent = queue_email(recipients=["sent@example.com"], subject="s", body_text="s")
    old = timezone.now() - timedelta(minutes=5)
    OutboundEmail.objects.exclude(pk=recent.pk).update(created_at=old)
    OutboundEmail.objects.filter(pk=retried.pk).update(attempts=1)
    OutboundEmail.objects.filter(pk=sent.pk).update(state=OutboundEmail.State.SENT)

    assert deliver_waiting_emails() == 1
    assert published == [lost.pk]
