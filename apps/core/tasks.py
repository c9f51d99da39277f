import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.utils import timezone

from apps.core.models import OutboundEmail

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-send; the message is taken over.
STALE_CLAIM = timedelta(minutes=5)
MAX_DELIVERY_ATTEMPTS = 5
# At most this many waiting messages are published again per sweep.
REPUBLISH_BATCH = 500


def _claim(email_id: int) -> bool:
    """Move the message to "sending" unless another worker holds it or it is already done."""
    now = timezone.now()
    claimable = Q(state=OutboundEmail.State.QUEUED) | Q(
        state=OutboundEmail.State.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    claimed = OutboundEmail.objects.filter(claimable, pk=email_id).update(
        state=OutboundEmail.State.SENDING, claimed_at=now
    )
    return claimed == 1


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=MAX_DELIVERY_ATTEMPTS,
)
def deliver_email(self, email_id: int) -> None:
    """Send one queued message; running it twice sends it once."""
    if not _claim(email_id):
        logger.info("email %s is gone, sent or held by another worker", email_id)
        return

    message = OutboundEmail.objects.get(pk=email_id)
    message.attempts += 1
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.recipients,
    )
    if message.body_html:
        mail.attach_alternative(message.body_html, "text/html")

    try:
        mail.send()
    except (smtplib.SMTPException, ConnectionError, TimeoutError) as error:
        final = self.request.retries >= MAX_DELIVERY_ATTEMPTS
        message.state = OutboundEmail.State.FAILED if final else OutboundEmail.State.QUEUED
        message.last_error = type(error).__name__
        message.save(update_fields=["state", "attempts", "last_error"])
        logger.warning("email %s delivery attempt %s failed", email_id, message.attempts)
        if final:
            return
        raise

    # The body may hold a one-time link; once delivered there is no reason to keep it.
    message.state = OutboundEmail.State.SENT
    message.sent_at = timezone.now()
    message.body_text = ""
    message.body_html = ""
    message.save(update_fields=["state", "sent_at", "attempts", "body_text", "body_html"])


@shared_task
def deliver_waiting_emails() -> int:
    """Publish again every message never tried since it was queued a while ago; return how many.

    Its first task was lost: the broker did not answer when the request committed. A message
    being retried has attempts already and its own retry, so it is left alone; publishing one
    twice is harmless, as a message is claimed before it is sent.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.PORTAL_OUTBOX_REPUBLISH_AFTER)
    waiting = list(
        OutboundEmail.objects.filter(
            state=OutboundEmail.State.QUEUED, attempts=0, created_at__lte=cutoff
        )
        .order_by("id")
        .values_list("pk", flat=True)[:REPUBLISH_BATCH]
    )
    for message_id in waiting:
        deliver_email.delay(message_id)
    if waiting:
        logger.info("published %s waiting email(s) again", len(waiting))
    return len(waiting)


@shared_task
def rotate_encryption_keys() -> None:
    """Re-encrypt every model to the current primary keys; resumes where a previous run died."""
    from apps.core.crypto.rotation import rotate_all

    for run in rotate_all(on_progress=_log_rotation_progress):
        logger.info(
            "rotation of %s to %s finished: %s of %s rows rewritten",
            run.model_label, run.target, run.rows_rewritten, run.rows_seen,
        )  # fmt: skip


def _log_rotation_progress(run) -> None:
    logger.info(
        "rotation of %s: %s rows checked, up to id %s", run.model_label, run.rows_seen, run.cursor
    )


@shared_task
def apply_retention() -> None:
    """Clear or delete data past its retention period, per the classification registry."""
    from apps.core.retention import apply_retention_policies

    for record in apply_retention_policies():
        logger.info("retention: %s", record)
