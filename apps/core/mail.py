"""Queue an email for delivery by a Celery worker, after the current transaction commits."""

from django.db import transaction

from apps.core.models import OutboundEmail


def queue_email(*, recipients: list[str], subject: str, body_text: str, body_html: str = ""):
    from apps.core.tasks import deliver_email

    message = OutboundEmail.objects.create(
        recipients=recipients, subject=subject, body_text=body_text, body_html=body_html
    )
    # Enqueued only once the row is committed: a worker must never look for a row that does not
    # exist yet, and a rolled-back request must send nothing.
    transaction.on_commit(lambda: deliver_email.delay(message.pk))
    return message
