"""Every change to a data-subject request or a consent goes through these functions.

Each takes the acting party as a keyword argument and writes its security event in the same
transaction. Tasks are enqueued only after commit, so a worker never looks for a request that
does not exist yet, and a rolled-back filing runs nothing.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.publishing import publish
from apps.gdpr.models import (
    MAX_EXTENSION,
    RESPONSE_PERIOD,
    ConsentPurpose,
    ConsentRecord,
    DataSubjectRequest,
    ErasureIdentifier,
)
from apps.siem.events import emit, reference

logger = logging.getLogger(__name__)

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Channel = DataSubjectRequest.Channel


class RequestStateError(ValidationError):
    """The request is not in a state that allows this change."""


def _capture_identifiers(request: DataSubjectRequest, user, customers) -> None:
    """Keep the subject's identifiers for the verification scan (deleted when it ends)."""
    from allauth.account.models import EmailAddress

    found = set()
    if user is not None:
        found.add(("email", user.email.lower()))
        for address in EmailAddress.objects.filter(user=user).values_list("email", flat=True):
            found.add(("email", address.lower()))
        customers = list(customers) + list(user.customer_records.all())
        found |= _profile_identifiers(user)
    for customer in customers:
        if customer.email:
            found.add(("email", customer.email.lower()))
        if customer.display_name:
            found.add(("name", customer.display_name.lower()))
    ErasureIdentifier.objects.bulk_create(
        [ErasureIdentifier(request=request, kind=kind, value=value) for kind, value in found],
        ignore_conflicts=True,
    )


def _profile_identifiers(user) -> set[tuple[str, str]]:
    """The name and phone of the profile: encrypted there, but they may sit in plain text
    elsewhere (a partner's record, a free-text note), which is what the scan looks for."""
    from apps.accounts.models import Profile

    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return set()
    found = set()
    full_name = " ".join(part for part in (profile.first_name, profile.last_name) if part)
    if full_name:
        found.add(("name", full_name.lower()))
    if profile.phone:
        found.add(("phone", profile.phone.lower()))
    return found


def _enqueue(request: DataSubjectRequest) -> None:
    transaction.on_commit(lambda: _publish(request.pk))


def _publish(request_id: int) -> None:
    from apps.gdpr.tasks import run_request

    if not publish(run_request, request_id):
        # Committed as scheduled: release_scheduled_requests publishes it again within minutes.
        logger.warning("broker unavailable; privacy request %s waits for the release", request_id)


@transaction.atomic
def file_request(*, kind: str, subject, channel: str, by, partner=None, customers=()):
    """Record a new request and move it as far as its channel allows without staff.

    The identity of the subject is already verified by the channel: the user re-authenticated,
    the partner vouches for its customer with its credentials, or staff checked it. A user's own
    export needs no approval; everything else waits for staff.
    """
    customers = list(customers)
    if subject is None and not customers:
        raise ValidationError("A request needs a subject")
    now = timezone.now()
    subject_ref = reference(subject) if subject is not None else f"customer:{customers[0].pk}"
    request = DataSubjectRequest.objects.create(
        kind=kind,
        subject=subject,
        subject_ref=subject_ref,
        customer_ids=[customer.pk for customer in customers],
        channel=channel,
        filed_by_ref=reference(by) if not isinstance(by, str) else by,
        partner=partner,
        state=State.VERIFYING,
        received_at=now,
        due_at=now + RESPONSE_PERIOD,
    )
    if kind == Kind.ERASURE:
        _capture_identifiers(request, subject, customers)
    emit(
        "gdpr.request.received",
        actor=by,
        subject=subject_ref,
        details={"request": request.pk, "kind": kind, "channel": channel},
    )

    if kind == Kind.EXPORT and channel == Channel.USER:
        _schedule(request, decided_by="policy:own-export", reason="the subject's own export")
    else:
        request.state = State.AWAITING_APPROVAL
        request.save(update_fields=["state"])
    return request


def _schedule(request: DataSubjectRequest, *, decided_by: str, reason: str) -> None:
    grace = timedelta(seconds=settings.GDPR_ERASURE_GRACE_SECONDS)
    request.state = State.SCHEDULED
    request.decided_by_ref = decided_by
    request.decision_reason = reason
    if request.kind == Kind.ERASURE and grace:
        request.not_before = timezone.now() + grace
    request.save(update_fields=["state", "decided_by_ref", "decision_reason", "not_before"])
    emit(
        "gdpr.request.approved",
        actor=decided_by,
        subject=request.subject_ref,
        details={"request": request.pk, "kind": request.kind},
    )
    if request.not_before is None:
        _enqueue(request)


def _locked(request_id: int) -> DataSubjectRequest:
    return DataSubjectRequest.objects.select_for_update().get(pk=request_id)


@transaction.atomic
def approve_request(request: DataSubjectRequest, *, by, reason: str = "") -> DataSubjectRequest:
    request = _locked(request.pk)
    if request.state != State.AWAITING_APPROVAL:
        raise RequestStateError(f"A {request.get_state_display()} request cannot be approved")
    _schedule(request, decided_by=reference(by), reason=reason)
    return request


@transaction.atomic
def reject_request(request: DataSubjectRequest, *, by, reason: str) -> DataSubjectRequest:
    if not reason.strip():
        raise ValidationError("A rejection needs a reason")
    request = _locked(request.pk)
    if request.state not in {State.VERIFYING, State.AWAITING_APPROVAL}:
        raise RequestStateError(f"A {request.get_state_display()} request cannot be rejected")
    request.state = State.REJECTED
    request.decided_by_ref = reference(by)
    request.decision_reason = reason.strip()
    request.completed_at = timezone.now()
    request.save(update_fields=["state", "decided_by_ref", "decision_reason", "completed_at"])
    request.identifiers.all().delete()
    emit(
        "gdpr.request.rejected",
        actor=by,
        subject=request.subject_ref,
        details={"request": request.pk, "kind": request.kind},
    )
    return request


@transaction.atomic
def cancel_request(request: DataSubjectRequest, *, by) -> DataSubjectRequest:
    """The subject withdraws a request before it runs (during the grace period for erasure)."""
    request = _locked(request.pk)
    waiting = request.state in {State.VERIFYING, State.AWAITING_APPROVAL} or (
        request.state == State.SCHEDULED
        and request.not_before is not None
        and request.not_before > timezone.now()
    )
    if not waiting:
        raise RequestStateError("This request can no longer be cancelled")
    request.state = State.CANCELLED
    request.completed_at = timezone.now()
    request.save(update_fields=["state", "completed_at"])
    request.identifiers.all().delete()
    emit(
        "gdpr.request.cancelled",
        actor=by,
        subject=request.subject_ref,
        details={"request": request.pk, "kind": request.kind},
    )
    return request


@transaction.atomic
def extend_deadline(request: DataSubjectRequest, *, by, until, reason: str):
    if not reason.strip():
        raise ValidationError("An extension needs a reason")
    if until <= request.due_at or until > request.due_at + MAX_EXTENSION:
        raise ValidationError("An extension ends after the due date and within two more months")
    request = _locked(request.pk)
    request.extended_until = until
    request.extension_reason = reason.strip()
    request.overdue_alerted_at = None
    request.save(update_fields=["extended_until", "extension_reason", "overdue_alerted_at"])
    return request


def flag_overdue_requests(*, now=None) -> int:
    """Raise one event per open request that passed its deadline; running it again adds none."""
    now = now or timezone.now()
    open_states = [State.RECEIVED, State.VERIFYING, State.AWAITING_APPROVAL, State.SCHEDULED,
                   State.RUNNING]  # fmt: skip
    flagged = 0
    candidates = DataSubjectRequest.objects.filter(
        state__in=open_states, overdue_alerted_at__isnull=True
    ).only("id", "due_at", "extended_until", "subject_ref", "kind")
    for request in candidates:
        if request.deadline >= now:
            continue
        with transaction.atomic():
            claimed = DataSubjectRequest.objects.filter(
                pk=request.pk, overdue_alerted_at__isnull=True
            ).update(overdue_alerted_at=now)
            if not claimed:
                continue
            emit(
                "gdpr.request.overdue",
                actor="system:gdpr",
                subject=request.subject_ref,
                details={"request": request.pk, "kind": request.kind},
            )
            flagged += 1
    return flagged


def release_scheduled_requests(*, now=None) -> int:
    """Enqueue scheduled requests that are due: erasures whose grace period is over, and any
    without a grace period still waiting, whose first task was lost with the broker (or is
    still queued: the task's claim makes doubles harmless)."""
    from apps.gdpr.tasks import run_request

    now = now or timezone.now()
    due = DataSubjectRequest.objects.filter(
        Q(not_before__lte=now) | Q(not_before__isnull=True), state=State.SCHEDULED
    )
    ids = list(due.values_list("pk", flat=True))
    for request_id in ids:
        run_request.delay(request_id)
    return len(ids)


# --- Consent -----------------------------------------------------------------------------


def current_consents(user) -> dict[str, ConsentRecord]:
    """The latest answer per purpose slug."""
    latest = {}
    for record in ConsentRecord.objects.filter(user=user).select_related("purpose"):
        latest.setdefault(record.purpose.slug, record)
    return latest


@transaction.atomic
def record_consent(*, user, purpose: ConsentPurpose, granted: bool, source: str, by):
    record = ConsentRecord.objects.create(
        user=user, purpose=purpose, granted=granted, source=source, recorded_at=timezone.now()
    )
    emit(
        "gdpr.consent.changed",
        actor=by,
        subject=user,
        details={"purpose": purpose.slug, "version": purpose.version, "granted": granted,
                 "source": source},
    )  # fmt: skip
    return record
