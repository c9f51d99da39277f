"""Filing, deciding and watching the deadline of requests; the pages and the admin queue."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.gdpr import services
from apps.gdpr.models import ConsentPurpose, ConsentRecord, DataSubjectRequest, ErasureIdentifier
from apps.siem.models import SecurityEvent
from tests.gdpr.conftest import log_in_and_reauthenticate
from tests.support import broker_down, force_login_verified

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State


def _events(event_type):
    return SecurityEvent.objects.filter(event_type=event_type)


def test_an_erasure_is_due_one_month_after_receipt_and_waits_for_staff(erin):
    request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)

    assert request.state == State.AWAITING_APPROVAL
    assert request.due_at - request.received_at == timedelta(days=30)
    assert request.subject_ref == f"user:{erin.pk}"
    kept = set(ErasureIdentifier.objects.filter(request=request).values_list("kind", "value"))
    assert kept == {("email", erin.email)}
    assert _events("gdpr.request.received").count() == 1


def test_a_request_past_its_due_date_is_overdue_and_raises_one_event(erin):
    request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    request.refresh_from_db()
    assert request.is_overdue

    assert services.flag_overdue_requests() == 1
    assert services.flag_overdue_requests() == 0
    assert _events("gdpr.request.overdue").count() == 1
    assert _events("gdpr.request.overdue").get().subject == f"user:{erin.pk}"


def test_an_extension_with_a_reason_moves_the_deadline_and_clears_overdue(erin, privacy_officer):
    request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    request.refresh_from_db()
    with pytest.raises(ValidationError):
        services.extend_deadline(
            request, by=privacy_officer, until=request.due_at + timedelta(days=90), reason="x"
        )
    with pytest.raises(ValidationError):
        services.extend_deadline(
            request, by=privacy_officer, until=request.due_at + timedelta(days=30), reason=" "
        )

    request = services.extend_deadline(
        request, by=privacy_officer, until=request.due_at + timedelta(days=30),
        reason="records held by a partner",
    )  # fmt: skip
    assert not request.is_overdue
    assert services.flag_overdue_requests() == 0


def test_a_rejection_needs_a_reason_and_drops_the_kept_identifiers(erin, privacy_officer):
    request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
    with pytest.raises(ValidationError):
        services.reject_request(request, by=privacy_officer, reason="")

    services.reject_request(request, by=privacy_officer, reason="legal hold on the account")

    request.refresh_from_db()
    assert request.state == State.REJECTED
    assert request.decision_reason == "legal hold on the account"
    assert not ErasureIdentifier.objects.filter(request=request).exists()
    assert _events("gdpr.request.rejected").count() == 1
    with pytest.raises(ValidationError):
        services.approve_request(request, by=privacy_officer)


@pytest.fixture
def enqueued(monkeypatch):
    """Ids handed to the request task, recorded instead of sent to a broker."""
    from apps.gdpr.tasks import run_request

    sent = []
    monkeypatch.setattr(run_request, "delay", sent.append)
    return sent


def test_an_approved_erasure_can_be_cancelled_during_its_grace_period(
    erin, privacy_officer, settings, django_capture_on_commit_callbacks, enqueued
):
    settings.GDPR_ERASURE_GRACE_SECONDS = 3600
    request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_request(request, by=privacy_officer)
    assert enqueued == [], "nothing runs before the grace period ends"
    assert services.release_scheduled_requests() == 0

    services.cancel_request(request, by=erin)

    request.refresh_from_db()
    assert request.state == State.CANCELLED
    assert _events("gdpr.request.approved").count() == 1


def test_an_erasure_cannot_be_cancelled_once_it_is_due_to_run(erin, privacy_officer):
    request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
    DataSubjectRequest.objects.filter(pk=request.pk).update(state=State.RUNNING)
    with pytest.raises(ValidationError):
        services.cancel_request(request, by=erin)


# --- Pages -------------------------------------------------------------------------------


def test_the_privacy_page_needs_a_signed_in_user(client):
    response = client.get(reverse("privacy_overview"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_filing_a_request_asks_for_the_password_again(client, erin):
    # A session with no recent proof of identity: signed in long enough ago.
    client.force_login(erin)

    response = client.post(reverse("privacy_file_request"), {"kind": "erasure"})

    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    assert not DataSubjectRequest.objects.exists()


def test_a_reauthenticated_user_files_an_erasure_once(client, erin):
    log_in_and_reauthenticate(client, erin)

    client.post(reverse("privacy_file_request"), {"kind": "erasure"})
    client.post(reverse("privacy_file_request"), {"kind": "erasure"})
    client.post(reverse("privacy_file_request"), {"kind": "nonsense"})

    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.channel, request.filed_by_ref) == (
        "erasure", "user", f"user:{erin.pk}",
    )  # fmt: skip
    page = client.get(reverse("privacy_overview"))
    assert f'data-testid="request-{request.pk}"' in page.content.decode()


def test_consent_is_granted_and_withdrawn_per_purpose_with_time_and_source(client, erin):
    purpose = ConsentPurpose.objects.create(slug="research", title="Research", description="R")
    client.force_login(erin)

    client.post(reverse("privacy_change_consent"), {"purpose": purpose.pk, "granted": "1"})
    client.post(reverse("privacy_change_consent"), {"purpose": purpose.pk, "granted": "0"})
    response = client.post(reverse("privacy_change_consent"), {"purpose": "x", "granted": "1"})

    assert response.status_code == 302
    history = list(ConsentRecord.objects.filter(user=erin).order_by("recorded_at", "id"))
    assert [(r.granted, r.source) for r in history] == [
        (True, "privacy_page"), (False, "privacy_page"),
    ]  # fmt: skip
    assert all(r.recorded_at for r in history)
    assert not services.current_consents(erin)["research"].granted
    assert _events("gdpr.consent.changed").count() == 2


def test_a_grant_of_an_older_version_does_not_cover_the_new_text(client, erin):
    old = ConsentPurpose.objects.create(slug="news", version=1, title="News", description="v1")
    ConsentRecord.objects.create(user=erin, purpose=old, granted=True, source="privacy_page")
    ConsentPurpose.objects.create(slug="news", version=2, title="News", description="v2")
    client.force_login(erin)

    page = client.get(reverse("privacy_overview")).content.decode()

    section = page[page.index('data-testid="consent-news"') :]
    assert "Not granted" in section.split("</li>")[0]


def test_the_admin_queue_lists_by_due_date_and_marks_overdue(client, erin, customer):
    from tests.conftest import make_person

    officer = make_person("root.officer@example.com", is_staff=True, is_superuser=True)
    late = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
    fresh = services.file_request(kind="erasure", subject=customer, channel="user", by=customer)
    DataSubjectRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    force_login_verified(client, officer)

    page = client.get(reverse("admin:gdpr_datasubjectrequest_changelist")).content.decode()

    assert page.count("(overdue)") == 1
    assert page.index(f"user:{erin.pk}") < page.index(f"user:{customer.pk}")
    assert fresh.pk


def test_staff_approve_from_the_admin_queue(
    client, erin, django_capture_on_commit_callbacks, enqueued
):
    from tests.conftest import make_person

    officer = make_person("root.officer@example.com", is_staff=True, is_superuser=True)
    request = services.file_request(kind="erasure", subject=erin, channel="user", by=erin)
    force_login_verified(client, officer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:gdpr_datasubjectrequest_changelist"),
            {"action": "approve", "_selected_action": [request.pk]},
        )

    request.refresh_from_db()
    assert request.state == State.SCHEDULED
    assert request.decided_by_ref == f"user:{officer.pk}"
    assert enqueued == [request.pk], "the erasure task is enqueued after commit"


def test_an_export_filed_while_the_broker_is_down_is_released_by_the_sweep(
    erin, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.gdpr.tasks import run_request

    # An export needs no approval: it is scheduled at once, and its task cannot be published.
    monkeypatch.setattr(run_request, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        request = services.file_request(kind="export", subject=erin, channel="user", by=erin)
    request.refresh_from_db()
    assert request.state == State.SCHEDULED
    assert request.not_before is None

    # The broker is back: the periodic release publishes it.
    published = []
    monkeypatch.setattr(run_request, "delay", published.append)
    assert services.release_scheduled_requests() == 1
    assert published == [request.pk]
