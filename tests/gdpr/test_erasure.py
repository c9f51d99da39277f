"""Erasure through a real Celery worker: every provider runs once and the scan proves it."""

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken, Application

from apps.accounts.models import Profile, User
from apps.api.models import TokenSession
from apps.core.models import OutboundEmail
from apps.gdpr import registry, services
from apps.gdpr.models import ConsentRecord, DataSubjectRequest, ErasureIdentifier
from apps.partners.models import Customer
from apps.rbac.models import RoleBinding
from apps.siem.models import SecurityEvent
from tests.gdpr.conftest import wait_until
from tests.gdpr.factories import SECOND_ADDRESS, give_a_full_history

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

State = DataSubjectRequest.State


def _file_erasure(person, officer):
    request = services.file_request(kind="erasure", subject=person, channel="user", by=person)
    assert request.state == State.AWAITING_APPROVAL
    return services.approve_request(request, by=officer, reason="identity checked")


def _finished(request):
    request.refresh_from_db()
    return request.state in {State.COMPLETED, State.FAILED} and request


def test_erasure_leaves_only_pseudonymous_events_and_a_clean_scan(
    celery_worker, mailbox, erin, privacy_officer
):
    give_a_full_history(erin, staff_member=privacy_officer)
    erin_id, erin_email, pseudonym = erin.pk, erin.email, f"user:{erin.pk}"
    events_before = SecurityEvent.objects.filter(subject=pseudonym).count()

    request = _file_erasure(erin, privacy_officer)
    wait_until(lambda: _finished(request), timeout=30, message="erasure finished")

    assert request.state == State.COMPLETED, request.failure or celery_worker.log()[-3000:]
    assert request.scan_result["clean"] is True
    assert request.scan_result["tables"] > 10
    steps = list(request.steps.values_list("provider", "state", "runs"))
    assert [name for name, _, _ in steps] == [p.name for p in registry.providers()]
    assert all(state == "done" and runs == 1 for _, state, runs in steps), steps

    assert not User.objects.filter(pk=erin_id).exists()
    assert not EmailAddress.objects.filter(user_id=erin_id).exists()
    assert not ConsentRecord.objects.filter(user_id=erin_id).exists()
    assert not any(s.get_decoded().get("_auth_user_id") == str(erin_id)
                   for s in Session.objects.all())  # fmt: skip
    assert not LogEntry.objects.filter(user_id=erin_id).exists()
    assert not AccessToken.objects.filter(user_id=erin_id).exists()
    assert not Application.objects.filter(user_id=erin_id).exists()
    assert not TokenSession.objects.filter(user_id=erin_id).exists()
    assert not Profile.objects.filter(user_id=erin_id).exists()
    assert not TOTPDevice.objects.filter(user_id=erin_id).exists()
    assert not SocialAccount.objects.filter(user_id=erin_id).exists()
    assert not RoleBinding.objects.filter(user_id=erin_id).exists()
    about_erin = LogEntry.objects.filter(object_id=str(erin_id))
    assert set(about_erin.values_list("object_repr", flat=True)) == {pseudonym}
    customer = Customer.objects.get(reference=f"acme-{erin_id}")
    # Name, address and the keyed hash of the address (which would still find the record) go;
    # the partner keeps its own reference.
    assert (customer.owner_id, customer.display_name, customer.email) == (None, None, None)
    assert customer.email_index is None

    # Events stay for the security record, carrying only the pseudonym.
    assert SecurityEvent.objects.filter(subject=pseudonym).count() >= events_before
    failures = SecurityEvent.objects.filter(event_type="auth.login.failure")
    assert failures.count() == 2
    assert {event.details["identifier"] for event in failures} == {pseudonym}
    assert {event.subject for event in failures} == {pseudonym}
    assert not SecurityEvent.objects.filter(details__icontains=SECOND_ADDRESS).exists()

    # The identifiers kept for the scan are gone; the confirmation went to the old address.
    assert not ErasureIdentifier.objects.filter(request=request).exists()
    message = mailbox.wait_for(erin_email)
    assert "erased" in message["Subject"]
    assert SecurityEvent.objects.filter(event_type="gdpr.request.completed",
                                        subject=pseudonym).count() == 1  # fmt: skip


def test_an_identifier_left_in_an_unknown_table_fails_the_request_and_alerts_staff(
    celery_worker, mailbox, erin, privacy_officer
):
    # A record no provider knows about: the mail outbox provider only looks at recipients.
    OutboundEmail.objects.create(
        recipients=["someone.else@example.com"], subject=f"About {erin.email}", body_text=""
    )
    request = _file_erasure(erin, privacy_officer)
    wait_until(lambda: _finished(request), timeout=30, message="erasure finished")

    assert request.state == State.FAILED
    assert {"table": "core_outboundemail", "column": "subject"} in request.scan_result["hits"]
    assert erin.email not in str(request.scan_result), "the result names places, not values"
    alert = mailbox.wait_for("priya@example.com")
    assert f"#{request.pk} failed" in alert["Subject"]
    assert SecurityEvent.objects.filter(event_type="gdpr.request.failed").count() == 1


def test_a_request_filed_in_a_rolled_back_transaction_never_runs(
    celery_worker, mailbox, erin, privacy_officer
):
    class Abandon(Exception):
        pass

    def file_then_fail():
        with transaction.atomic():
            request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
            services.approve_request(request, by=privacy_officer)
            raise Abandon

    with pytest.raises(Abandon):
        file_then_fail()

    assert not DataSubjectRequest.objects.exists()
    # A committed export filed afterwards is picked up; the abandoned task would have run first.
    export = services.file_request(kind="export", subject=erin, channel="user", by=erin)
    wait_until(lambda: _finished(export), timeout=30, message="export finished")
    assert export.state == State.COMPLETED
    assert User.objects.filter(pk=erin.pk).exists()


def test_a_request_approved_inside_a_transaction_is_seen_by_the_worker_after_commit(
    celery_worker, erin, privacy_officer
):
    with transaction.atomic():
        request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
        services.approve_request(request, by=privacy_officer)
        # Not committed yet: the worker cannot have been handed the task.
        assert DataSubjectRequest.objects.get(pk=request.pk).state == State.SCHEDULED

    wait_until(lambda: _finished(request), timeout=30, message="erasure finished")
    assert request.state == State.COMPLETED
    assert request.attempts == 1
