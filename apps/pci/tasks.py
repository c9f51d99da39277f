import logging

from celery import shared_task

from apps.pci import services

logger = logging.getLogger(__name__)


@shared_task(name="apps.pci.tasks.purge_expired_card_tokens")
def purge_expired_card_tokens() -> int:
    """Delete cards past their retention date (scheduled hourly by beat; safe to run twice)."""
    deleted = services.purge_expired_card_tokens()
    if deleted:
        logger.info("purged %d expired card tokens", deleted)
    return deleted
