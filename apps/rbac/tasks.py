"""Scheduled lifecycle work: lapsed bindings and idle accounts. Both are safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings

from apps.rbac import services

logger = logging.getLogger(__name__)


@shared_task
def expire_role_bindings() -> int:
    removed = services.expire_bindings()
    if removed:
        logger.info("removed %s expired role bindings", removed)
    return removed


@shared_task
def disable_inactive_accounts() -> int:
    disabled = services.disable_inactive_accounts(days=settings.RBAC_INACTIVE_ACCOUNT_DAYS)
    if disabled:
        logger.warning("disabled %s accounts inactive for %s days", disabled,
                       settings.RBAC_INACTIVE_ACCOUNT_DAYS)  # fmt: skip
    return disabled
