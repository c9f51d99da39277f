"""Writes of the security-monitoring app that staff, tasks and commands share."""

import logging

from django.db import transaction
from django.utils import timezone

from apps.siem import chain
from apps.siem.events import emit
from apps.siem.incidents import open_manual_incident
from apps.siem.models import ChainState, Incident

logger = logging.getLogger(__name__)

CHAIN_INCIDENT_TITLE = "Security event chain broken"


def verify_and_report(*, by: str) -> chain.Verification:
    """Verify the chain; on a break, open (once) an incident naming the first bad event."""
    chain.seal_pending()
    result = chain.verify_chain()
    ChainState.objects.filter(pk=chain.HEAD_ID).update(
        last_verified_at=timezone.now(), last_verification=str(result)[:255]
    )
    if result.ok:
        return result

    logger.error("%s", result)
    title = f"{CHAIN_INCIDENT_TITLE}: {result}"
    with transaction.atomic():
        already = Incident.objects.filter(
            title=title[:255], status__in=Incident.ACTIVE_STATUSES
        ).exists()
        if not already:
            open_manual_incident(title=title, severity="critical", by=by)
            emit(
                "siem.chain.broken", actor=by,
                details={"event_id": result.bad_event_id, "seq": result.bad_seq,
                         "reason": result.reason},
            )  # fmt: skip
    return result


def purge_events(*, older_than, actor) -> object:
    """Retention purge of the oldest events, recorded and itself reported as an event."""
    who = f"user:{actor.pk}" if getattr(actor, "pk", None) else str(actor)
    with transaction.atomic():
        record = chain.purge_events(older_than=older_than, actor=who)
        if record:
            emit(
                "siem.events.purged", actor=who,
                details={"first_seq": record.first_seq, "last_seq": record.last_seq,
                         "removed": record.removed},
            )  # fmt: skip
    return record
