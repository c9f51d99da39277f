"""Handing an export to its subject once, and deleting archives nobody may fetch any more."""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.gdpr import archive
from apps.gdpr.models import ExportArchive
from apps.siem.events import emit

logger = logging.getLogger(__name__)


class ExportUnavailable(Exception):
    """Not this user's, already downloaded, expired or deleted: all look the same to them."""


@transaction.atomic
def claim_download(*, request_id: int, by) -> bytes:
    """Return the archive's bytes and mark it downloaded; a second call raises."""
    now = timezone.now()
    claimed = ExportArchive.objects.filter(
        request_id=request_id,
        request__subject=by,
        downloaded_at__isnull=True,
        deleted_at__isnull=True,
        expires_at__gt=now,
    ).update(downloaded_at=now)
    if not claimed:
        raise ExportUnavailable

    export = ExportArchive.objects.get(request_id=request_id)
    path = archive.export_dir() / export.file_name
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ExportUnavailable from None
    emit("gdpr.export.downloaded", actor=by, details={"request": request_id})
    return content


def purge_exports(*, now=None) -> int:
    """Delete archive files that were downloaded or have expired; safe to run twice."""
    now = now or timezone.now()
    finished = ExportArchive.objects.filter(deleted_at__isnull=True).filter(
        Q(downloaded_at__isnull=False) | Q(expires_at__lte=now)
    )
    purged = 0
    for export in finished:
        (archive.export_dir() / export.file_name).unlink(missing_ok=True)
        ExportArchive.objects.filter(pk=export.pk).update(deleted_at=now)
        purged += 1
    if purged:
        logger.info("purged %s export archives", purged)
    return purged
