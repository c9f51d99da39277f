"""Security events for encrypted data, fed by the signals of ``apps.core.crypto.audit``.

The core app cannot import this one, so it reports through signals: a batch of reads of
access-logged fields becomes one ``data.access`` event, and every value that failed to decrypt
becomes a ``data.decryption.failure`` event for the security team.
"""

from django.dispatch import receiver

from apps.core.crypto import audit
from apps.siem.events import Outcome, Severity, emit, register_event_type

register_event_type("data.decryption.failure", Severity.HIGH, Outcome.FAILURE)


@receiver(audit.data_accessed)
def record_data_access(sender, *, actor, reads, subjects, subject_count, **kwargs):
    emit(
        "data.access",
        actor=actor,
        # One subject is named as the event's subject; a batch over many people lists them.
        subject=subjects[0] if subject_count == 1 else "",
        details={
            "fields": [f"{read.model}.{read.field}" for read in reads],
            "rows": {f"{read.model}.{read.field}": read.rows for read in reads},
            "subjects": subjects,
            "subject_count": subject_count,
        },
    )


@receiver(audit.decryption_failed)
def record_decryption_failure(sender, *, model, field, pk, key_id, reason, **kwargs):
    emit(
        "data.decryption.failure",
        subject=f"{model}:{pk}",
        details={"model": model, "field": field, "row": pk, "key_id": key_id, "reason": reason},
    )
