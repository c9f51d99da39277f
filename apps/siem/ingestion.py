"""Store validated batches of events in one insert, and hand them to detection after commit."""

import ipaddress

from django.db import transaction

from apps.core.scrub import scrub
from apps.siem.events import EVENT_TYPES
from apps.siem.models import SecurityEvent

DETECTION_CHUNK = 500


def store_events(items: list[dict], *, source: str) -> list[SecurityEvent]:
    """Insert validated events with one bulk insert; detection runs on them after commit.

    ``source`` (the client or account that sent them) is kept in each event's details, so an
    event can always be traced to who reported it.
    """
    from apps.siem.tasks import process_events

    rows = []
    for item in items:
        default_severity, default_outcome = EVENT_TYPES[item["event_type"]]
        rows.append(
            SecurityEvent(
                occurred_at=item["occurred_at"],
                event_type=item["event_type"],
                severity=item.get("severity") or default_severity,
                outcome=item.get("outcome") or default_outcome,
                actor=item.get("actor", ""),
                subject=item.get("subject", ""),
                service=item.get("service")
                or ("partner" if source.startswith("client:") else "internal"),
                ip=str(ipaddress.ip_address(item["ip"])) if item.get("ip") else None,
                user_agent=item.get("user_agent", ""),
                request_id=item.get("request_id", ""),
                details={**scrub(item.get("details") or {}), "reported_by": source},
            )
        )
    if not rows:
        return []

    with transaction.atomic():
        stored = SecurityEvent.objects.bulk_create(rows)
        ids = [event.pk for event in stored]
        for start in range(0, len(ids), DETECTION_CHUNK):
            chunk = ids[start : start + DETECTION_CHUNK]
            transaction.on_commit(lambda chunk=chunk: process_events.delay(chunk))
    return stored
