"""Queue an email for delivery by a Celery worker, after the current transaction commits."""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from apps.core.models import OutboundEmail

logger = logging.getLogger(__name__)


def queue_email(*, recipients: list[str], subject: str, body_text: str, body_html: str = ""):
    message = OutboundEmail.objects.create(
        recipients=recipients, subject=subject, body_text=body_text, body_html=body_html
    )
    # Enqueued only once the row is committed: a worker must never look for a row that does not
    # exist yet, and a rolled-back request must send nothing.
    transaction.on_commit(lambda: _publish(message.pk))
    return message


def _publish(message_id: int) -> None:
    from apps.core.tasks import deliver_email

    try:
        deliver_email.delay(message_id)
    except (KombuOperationalError, OSError):
        # The message is committed in the outbox, never tried: the outbox sweep
        # (deliver_waiting_emails) publishes it once the broker answers. Failing here would
        # only turn the committed request into a 500.
        logger.warning("broker unavailable; email %s waits for the outbox sweep", message_id)
