"""Store validated batches of events in one insert, and hand them to detection after commit."""

import ipaddress
import json
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.scrub import scrub
from apps.siem.events import EVENT_TYPES, storable
from apps.siem.models import SecurityEvent

MAX_DETAILS_BYTES = 8192
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Only the portal itself, and internal services trusted with the model permission, may write
# events under this service name: the shipped rules act on it (block addresses, lock accounts).
PORTAL_SERVICE = "portal"
TEXT_LIMITS = {"actor": 128, "subject": 128, "user_agent": 512}
KNOWN_FIELDS = {
    "event_type", "occurred_at", "severity", "outcome", "actor", "subject", "service", "ip",
    "user_agent", "request_id", "details",
}  # fmt: skip


# One guard per field makes many branches, on purpose.
def validate_event(raw, *, as_portal: bool) -> tuple[dict, dict]:  # noqa: PLR0912
    """Check one incoming event; return its clean form, or the reasons it is refused by field.

    Written out rather than with a DRF serializer: a batch holds hundreds of events, and a
    serializer per event cost more than storing them.
    """
    if not isinstance(raw, dict):
        return {}, {"event": ["must be an object"]}
    errors: dict[str, list[str]] = {}
    clean: dict = {}

    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        errors["event"] = [f"unknown field(s): {', '.join(map(str, unknown))[:200]}"]

    event_type = raw.get("event_type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        errors["event_type"] = [f"unknown event type {str(event_type)[:64]!r}"]
    clean["event_type"] = event_type

    clean["occurred_at"] = _when(raw.get("occurred_at"), errors)

    for name, choices in (
        ("severity", SecurityEvent.Severity),
        ("outcome", SecurityEvent.Outcome),
    ):
        value = raw.get(name)
        if value is not None and value not in choices.values:
            errors[name] = [f"must be one of {', '.join(choices.values)}"]
        clean[name] = value

    for name, limit in TEXT_LIMITS.items():
        value = raw.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > limit:
            errors[name] = [f"must be text of at most {limit} characters"]
        clean[name] = value

    service = raw.get("service")
    if service is not None:
        if not isinstance(service, str) or not SERVICE_NAME.match(service):
            errors["service"] = ["must be lower-case letters, digits, . _ or -"]
        elif service == PORTAL_SERVICE and not as_portal:
            errors["service"] = ["is reserved for the portal's own services"]
    clean["service"] = service

    ip = raw.get("ip")
    if ip not in (None, ""):
        try:
            ip = str(ipaddress.ip_address(ip if isinstance(ip, str) else ""))
        except ValueError:
            errors["ip"] = ["must be an IPv4 or IPv6 address"]
    clean["ip"] = ip or None

    request_id = raw.get("request_id") or ""
    if request_id and (not isinstance(request_id, str) or not REQUEST_ID.match(request_id)):
        errors["request_id"] = ["must be 1-64 letters, digits, . _ or -"]
    clean["request_id"] = request_id

    details = raw.get("details") or {}
    if not isinstance(details, dict):
        errors["details"] = ["must be an object"]
    elif len(json.dumps(details, default=str)) > MAX_DETAILS_BYTES:
        errors["details"] = [f"must serialise to at most {MAX_DETAILS_BYTES} bytes"]
    clean["details"] = details
    return clean, errors


def _when(value, errors: dict):
    if not isinstance(value, str):
        errors["occurred_at"] = ["must be an ISO 8601 date and time"]
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors["occurred_at"] = ["must be an ISO 8601 date and time"]
        return None
    if moment.tzinfo is None:
        errors["occurred_at"] = ["must carry a time zone"]
        return None
    now = timezone.now()
    if moment > now + MAX_CLOCK_SKEW:
        errors["occurred_at"] = ["lies in the future"]
    elif moment < now - MAX_AGE:
        errors["occurred_at"] = ["is older than 7 days"]
    return moment


def store_events(items: list[dict], *, source: str) -> list[SecurityEvent]:
    """Insert validated events with one bulk insert; detection runs on them after commit.

    ``source`` (the client or account that sent them) is kept in each event's details, so an
    event can always be traced to who reported it.
    """
    from apps.siem.receivers import asker

    rows = []
    for item in items:
        default_severity, default_outcome = EVENT_TYPES[item["event_type"]]
        rows.append(
            SecurityEvent(
                occurred_at=item["occurred_at"],
                event_type=item["event_type"],
                severity=item.get("severity") or default_severity,
                outcome=item.get("outcome") or default_outcome,
                actor=storable(item.get("actor") or ""),
                subject=storable(item.get("subject") or ""),
                service=item.get("service")
                or ("partner" if source.startswith("client:") else "internal"),
                ip=item.get("ip"),
                user_agent=storable(item.get("user_agent") or ""),
                request_id=item.get("request_id") or "",
                details=storable({**scrub(item.get("details") or {}), "reported_by": source}),
            )
        )
    if not rows:
        return []

    with transaction.atomic():
        stored = SecurityEvent.objects.bulk_create(rows)
        transaction.on_commit(asker.ask_soon)
    return stored
