"""Helpers for security-monitoring tests: writing events and tampering with them as a DBA could."""

import contextlib
from datetime import timedelta

import pgtrigger
from django.db import connection
from django.utils import timezone

from apps.siem.events import emit
from apps.siem.models import SecurityEvent

ATTACKER_IP = "203.0.113.66"


def emit_many(count: int, event_type: str = "auth.login.failure", **fields) -> list[SecurityEvent]:
    return [emit(event_type, **fields) for _ in range(count)]


def ingest(event_type: str, *, at=None, **fields) -> SecurityEvent:
    """An event as the ingestion path stores it, at a chosen time."""
    return SecurityEvent.objects.create(
        occurred_at=at or timezone.now(), event_type=event_type,
        severity=fields.pop("severity", "low"), outcome=fields.pop("outcome", "failure"),
        **fields,
    )  # fmt: skip


def minutes_ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


@contextlib.contextmanager
def as_database_superuser():
    """What someone with full database rights can do: switch the append-only triggers off."""
    with pgtrigger.ignore(
        "siem.SecurityEvent:refuse_updates", "siem.SecurityEvent:refuse_deletes"
    ):
        yield


def raw_sql(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"
