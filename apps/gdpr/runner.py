"""Walk the providers for one request, one recorded step at a time.

How a step survives a crash:

1. The step row is locked (SELECT ... FOR UPDATE SKIP LOCKED) and still pending.
2. The provider's work and the row's move to "done" commit in one transaction.
3. A worker killed in between rolls both back and its database connection closes, which
   releases the lock; the redelivered task takes the step again. A step that committed is
   never repeated, and a step locked by a live worker is left to it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.mail import queue_email
from apps.gdpr import archive, registry, scan
from apps.gdpr.models import DataSubjectRequest, ExportArchive, RequestStep
from apps.gdpr.registry import Subject
from apps.siem.events import emit

logger = logging.getLogger(__name__)

State = DataSubjectRequest.State
EXPORT_LIFETIME = timedelta(days=7)


class StepBusy(Exception):
    """Another worker holds the next step; try again later."""


class ScanNotClean(Exception):
    """The verification scan still finds the subject's identifiers."""


def claim_request(request_id: int, *, token: str) -> DataSubjectRequest | None:
    """Move a scheduled request to running, or resume one this task (same id) started."""
    now = timezone.now()
    ready = Q(state=State.SCHEDULED) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    # A redelivered task keeps its id, so a request it left running is its own to resume.
    resumable = Q(state=State.RUNNING, claim_token=token)
    stale = Q(
        state=State.RUNNING,
        claimed_at__lt=now - timedelta(seconds=settings.GDPR_CLAIM_TIMEOUT_SECONDS),
    )
    claimed = DataSubjectRequest.objects.filter(ready | resumable | stale, pk=request_id).update(
        state=State.RUNNING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return DataSubjectRequest.objects.filter(pk=request_id).first()


def subject_of(request: DataSubjectRequest) -> Subject:
    user_id = None
    if request.subject_ref.startswith("user:"):
        user_id = int(request.subject_ref.split(":", 1)[1])
    identifiers = {"email": [], "name": [], "phone": []}
    for kind, value in request.identifiers.values_list("kind", "value"):
        identifiers.setdefault(kind, []).append(value)
    return Subject(
        pseudonym=request.subject_ref,
        user_id=user_id,
        customer_ids=tuple(request.customer_ids),
        emails=tuple(sorted(identifiers["email"])),
        names=tuple(sorted(identifiers["name"])),
        phones=tuple(sorted(identifiers["phone"])),
    )


def _ensure_steps(request: DataSubjectRequest) -> None:
    RequestStep.objects.bulk_create(
        [
            RequestStep(request=request, position=position, provider=provider.name)
            for position, provider in enumerate(registry.providers(), start=1)
        ],
        ignore_conflicts=True,
    )


def held_by_live_worker(request: DataSubjectRequest) -> bool:
    """True when another worker, still connected, holds a step of this request right now.

    A worker's row locks die with its database connection, so a lock that is held proves the
    holder is alive: a duplicate delivery must leave the request to it, and must not count
    towards the limit that fails crash-looping requests.
    """
    with transaction.atomic():
        pending = RequestStep.objects.filter(request=request, state=RequestStep.State.PENDING)
        lockable = pending.select_for_update(skip_locked=True, of=("self",)).order_by()
        return len(list(lockable.values_list("pk", flat=True))) < pending.count()


def _run_step(request: DataSubjectRequest, step_id: int, subject: Subject) -> None:
    with transaction.atomic():
        step = (
            # of=self: never lock the request row too, which a duplicate delivery updates.
            RequestStep.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=step_id, state=RequestStep.State.PENDING)
            .order_by()
            .first()
        )
        if step is None:
            if RequestStep.objects.filter(pk=step_id, state=RequestStep.State.DONE).exists():
                return
            raise StepBusy(step_id)

        provider = registry.get_provider(step.provider)
        started = timezone.now()
        if request.kind == DataSubjectRequest.Kind.ERASURE:
            summary = provider.erase(subject)
        else:
            tables = provider.export(subject)
            archive.write_part(request.pk, provider.name, tables)
            summary = {table: len(rows) for table, rows in tables.items()}

        step.state = RequestStep.State.DONE
        step.runs += 1
        step.started_at = started
        step.finished_at = timezone.now()
        step.summary = summary
        step.save(update_fields=["state", "runs", "started_at", "finished_at", "summary"])
    logger.info("request %s step %s done", request.pk, step.provider)


def run_steps(request: DataSubjectRequest) -> None:
    _ensure_steps(request)
    subject = subject_of(request)
    for step_id in request.steps.order_by("position").values_list("pk", flat=True):
        _run_step(request, step_id, subject)


def finish_erasure(request: DataSubjectRequest) -> None:
    subject = subject_of(request)
    result = scan.scan_for(
        substrings=list(subject.emails + subject.phones), whole=list(subject.names)
    )
    if not result["clean"]:
        DataSubjectRequest.objects.filter(pk=request.pk).update(scan_result=result)
        raise ScanNotClean(request.pk)

    # The confirmation goes to the address the subject had when filing; it is read before the
    # identifiers are deleted with the rest of the request's working data.
    confirmation_to = sorted(subject.emails)[:1]
    with transaction.atomic():
        done = DataSubjectRequest.objects.filter(pk=request.pk, state=State.RUNNING).update(
            state=State.COMPLETED, completed_at=timezone.now(), scan_result=result
        )
        if not done:
            return
        request.identifiers.all().delete()
        emit(
            "gdpr.request.completed",
            actor="system:gdpr",
            subject=request.subject_ref,
            details={
                "request": request.pk,
                "kind": request.kind,
                "tables_scanned": result["tables"],
            },
        )
        if confirmation_to and request.subject_ref.startswith("user:"):
            queue_email(
                recipients=confirmation_to,
                subject="Your personal data has been erased",
                body_text=(
                    f"Your erasure request #{request.pk} is complete. Your account and the "
                    "personal data the portal held about you have been erased."
                ),
            )


def finish_export(request: DataSubjectRequest) -> None:
    names = list(request.steps.order_by("position").values_list("provider", flat=True))
    file_name = f"export-{request.pk}.zip"
    size, digest = archive.build_archive(request.pk, names, file_name)

    with transaction.atomic():
        done = DataSubjectRequest.objects.filter(pk=request.pk, state=State.RUNNING).update(
            state=State.COMPLETED, completed_at=timezone.now()
        )
        if not done:
            return
        now = timezone.now()
        ExportArchive.objects.update_or_create(
            request=request,
            defaults={"file_name": file_name, "size": size, "sha256": digest,
                      "created_at": now, "expires_at": now + EXPORT_LIFETIME},
        )  # fmt: skip
        emit(
            "gdpr.request.completed",
            actor="system:gdpr",
            subject=request.subject_ref,
            details={"request": request.pk, "kind": request.kind},
        )
        subject = request.subject
        if subject is not None:
            queue_email(
                recipients=[subject.email],
                subject="Your data export is ready",
                body_text=(
                    "Your export is ready. Sign in and open your privacy page to download it "
                    "once within seven days."
                ),
            )
    archive.remove_parts(request.pk)


def fail_request(request_id: int, *, reason: str) -> None:
    """Mark the request failed and alert the staff who work the queue."""
    from apps.rbac.services import people_allowed_everywhere

    with transaction.atomic():
        failed = DataSubjectRequest.objects.filter(
            pk=request_id, state__in=[State.RUNNING, State.SCHEDULED]
        ).update(state=State.FAILED, failure=reason[:255], completed_at=timezone.now())
        if not failed:
            return
        request = DataSubjectRequest.objects.get(pk=request_id)
        emit(
            "gdpr.request.failed",
            actor="system:gdpr",
            subject=request.subject_ref,
            details={"request": request_id, "kind": request.kind, "reason": reason[:255]},
        )
        # Whoever may decide every request: the people the admin queue opens to, unnarrowed.
        staff = people_allowed_everywhere("write", "privacy-requests").filter(is_staff=True)
        recipients = sorted(set(staff.values_list("email", flat=True)))
        if recipients:
            queue_email(
                recipients=recipients,
                subject=f"Data-subject request #{request_id} failed",
                body_text=(
                    f"{request.get_kind_display()} request #{request_id} failed: {reason[:255]}. "
                    "Open the privacy request queue in the admin to review its step log."
                ),
            )
    logger.warning("request %s failed: %s", request_id, reason)
