"""Queue an email for delivery by a Celery worker, after the current transaction commits."""

import logging

from django.db import transaction

from apps.core.models import OutboundEmail
from apps.core.publishing import publish

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

    if not publish(deliver_email, message_id):
        # Committed in the outbox and never tried: deliver_waiting_emails publishes it again.
        logger.warning("broker unavailable; email %s waits for the outbox sweep", message_id)
