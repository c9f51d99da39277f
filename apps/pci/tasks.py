import logging

from celery import shared_task

from apps.core.crypto import keyring
from apps.pci import services

logger = logging.getLogger(__name__)


@shared_task(name="apps.pci.tasks.purge_expired_card_tokens")
def purge_expired_card_tokens() -> int:
    """Delete cards past their retention date (scheduled hourly by beat; safe to run twice)."""
    deleted = services.purge_expired_card_tokens()
    if deleted:
        logger.info("purged %d expired card tokens", deleted)
    return deleted


@shared_task(name="apps.pci.tasks.reencrypt_card_tokens")
def reencrypt_card_tokens() -> int:
    """Move every card onto the primary card key after a rotation (safe to run twice)."""
    # A long-running worker may hold the keyset it read before the rotation.
    keyring.default_keyring().reload()
    moved = services.reencrypt_card_tokens()
    logger.info("re-encrypted %d card numbers under the primary card key", moved)
    return moved
