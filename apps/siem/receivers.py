"""Hand every committed event to detection, once its transaction has committed."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.siem.models import SecurityEvent


@receiver(post_save, sender=SecurityEvent, dispatch_uid="siem-detect-on-commit")
def detect_after_commit(sender, instance, created, **kwargs):
    if not created:
        return
    from apps.siem.tasks import process_events

    event_id = instance.pk
    transaction.on_commit(lambda: process_events.delay([event_id]))
