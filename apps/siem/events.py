"""The one way to record a security event: ``emit()``.

Every app calls this; it imports nothing but ``apps.core``, so any app may depend on it. The
event is written with the caller's database connection, inside whatever transaction the caller
is in, so a change and its event are committed together.
"""

import functools

from django.db import connection, transaction
from django.utils import timezone

from apps.core.context import current_request_context
from apps.core.scrub import scrub, scrub_text
from apps.core.statements import (
    insert_statement,
    insertable_fields,
    mark_inserted,
    prepared_cursor,
    values_of,
)
from apps.siem.models import SecurityEvent

Severity = SecurityEvent.Severity
Outcome = SecurityEvent.Outcome

# The catalogue of known event types with their default severity and outcome. A caller may
# override either; an unknown type is refused, so a typo cannot create a type no rule watches.
EVENT_TYPES = {
    "auth.login.success": (Severity.INFO, Outcome.SUCCESS),
    "auth.login.failure": (Severity.LOW, Outcome.FAILURE),
    "auth.logout": (Severity.INFO, Outcome.SUCCESS),
    "auth.signup": (Severity.INFO, Outcome.SUCCESS),
    "auth.email.confirmed": (Severity.INFO, Outcome.SUCCESS),
    "auth.email.added": (Severity.LOW, Outcome.SUCCESS),
    "auth.email.removed": (Severity.LOW, Outcome.SUCCESS),
    "auth.password.changed": (Severity.LOW, Outcome.SUCCESS),
    "auth.password.reset": (Severity.MEDIUM, Outcome.SUCCESS),
    "auth.unauthorized.access": (Severity.MEDIUM, Outcome.FAILURE),
    "security.suspicious.activity": (Severity.HIGH, Outcome.UNKNOWN),
    "data.access": (Severity.INFO, Outcome.SUCCESS),
    "data.modification": (Severity.INFO, Outcome.SUCCESS),
    "api.request": (Severity.INFO, Outcome.SUCCESS),
    "auth.mfa.enabled": (Severity.LOW, Outcome.SUCCESS),
    "siem.chain.broken": (Severity.CRITICAL, Outcome.FAILURE),
    "siem.events.purged": (Severity.MEDIUM, Outcome.SUCCESS),
    "siem.playbook.action": (Severity.MEDIUM, Outcome.SUCCESS),
    "siem.incident.assigned": (Severity.LOW, Outcome.SUCCESS),
}


# PostgreSQL's text and jsonb cannot hold U+0000, and client input reaches events (a typed
# identifier, an object id from a URL, a user agent, an ingested event): it is stored as the
# replacement character, so the event is kept and still shows that something was there.
_NUL = "\u0000"
_NUL_STANDS_IN = "\ufffd"


def storable(value):
    """A copy of ``value`` (text, or lists and dicts of it) that the event table can hold."""
    if isinstance(value, str):
        return value.replace(_NUL, _NUL_STANDS_IN)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(item) for item in value]
    return value


def register_event_type(event_type: str, severity: str, outcome: str) -> None:
    """Let an app add its own event types to the catalogue at start-up."""
    EVENT_TYPES.setdefault(event_type, (severity, outcome))


def reference(party) -> str:
    """How an actor or subject is written in an event: "user:<pk>" or the string given."""
    if party is None:
        return ""
    if isinstance(party, str):
        return party
    if getattr(party, "is_anonymous", False):
        return ""
    return f"user:{party.pk}"


def new_event(
    event_type: str,
    *,
    actor=None,
    subject=None,
    ip: str | None = None,
    user_agent: str | None = None,
    details: dict | None = None,
    severity: str | None = None,
    outcome: str | None = None,
    service: str = "portal",
) -> SecurityEvent:
    """The event ``emit()`` would record, scrubbed and completed, but not yet saved.

    For a writer that inserts the event in the same statement as its own row; it must then
    send ``post_save`` for it, as a save would, so that detection still receives it.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown security event type {event_type!r}")
    default_severity, default_outcome = EVENT_TYPES[event_type]
    request = current_request_context()

    # The user agent is whatever the client sent, so it may hold a card number too.
    sent_user_agent = user_agent if user_agent is not None else request.user_agent or ""
    return SecurityEvent(
        occurred_at=timezone.now(),
        event_type=event_type,
        severity=severity or default_severity,
        outcome=outcome or default_outcome,
        actor=storable(reference(actor)),
        subject=storable(scrub_text(reference(subject if subject is not None else actor))),
        service=service,
        ip=ip or request.ip,
        user_agent=storable(scrub_text(sent_user_agent))[:512],
        request_id=request.request_id or "",
        details=storable(scrub(details or {})),
    )


def emit(event_type: str, **fields) -> SecurityEvent:
    """Record one security event; address and user agent default to the current request's.

    Takes the keyword arguments of ``new_event()``.
    """
    event = new_event(event_type, **fields)
    insert_event(event)
    return event


def insert_event(event: SecurityEvent) -> None:
    """Save a new event as ``event.save(force_insert=True)`` would, with a statement built once.

    Most requests write an event, so this is the portal's most frequent write; on PostgreSQL
    it skips the ORM's per-save compilation (apps/core/statements.py).
    """
    # The connection itself, not django.db.connection: each attribute read through that proxy
    # is a thread-local lookup, and preparing the values reads a few per column.
    db = transaction.get_connection()
    if db.vendor != "postgresql":
        event.save(force_insert=True)
        return
    with prepared_cursor(db) as cursor:
        cursor.execute(_insert_event_sql(), values_of(event, insertable_fields(SecurityEvent), db))
        (pk,) = cursor.fetchone()
    mark_inserted(event, pk, db)


@functools.cache
def _insert_event_sql() -> str:
    return insert_statement(SecurityEvent, connection)
