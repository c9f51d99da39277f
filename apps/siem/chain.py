"""The hash chain over security events: sealing, verification and the one audited purge.

Writers never touch the chain. ``emit()`` and the ingestion API only insert rows, so any
number of them run side by side without waiting for each other. A sealing task then walks the
unsealed rows in id order and links each to the chain: it gives the row the next sequence
number and stores

* ``content_hash``: SHA-256 of the row's canonical content (id included), and
* ``chain_hash``: SHA-256 of the predecessor's ``chain_hash``, the sequence number and the
  content hash; ``prev_hash`` keeps the predecessor's value in the row for readers.

Only the sealer is serialised, by a row lock on the chain head, and it handles thousands of rows
per transaction. Verification walks the chain in sequence order and names the first event whose
content, link or place no longer adds up: an edited row changes its content hash, a removed row
leaves a gap in the sequence, and swapped rows break the links. The head row anchors the end,
so removing the newest sealed events is seen as well.
"""

import hashlib
import ipaddress
import json
import logging
from dataclasses import dataclass
from datetime import UTC

from django.db import connection, transaction
from django.utils import timezone

from apps.siem.models import ChainState, EventPurge, SecurityEvent

logger = logging.getLogger(__name__)

SEAL_BATCH = 5000
VERIFY_CHUNK = 2000
HEAD_ID = 1


def canonical_content(event: SecurityEvent) -> bytes:
    """The bytes the content hash covers, identical however the row was read back."""
    ip = str(ipaddress.ip_address(event.ip)) if event.ip else ""
    occurred_at = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    content = [
        event.pk, occurred_at, event.event_type, event.severity, event.outcome, event.actor,
        event.subject, event.service, ip, event.user_agent, event.request_id, event.details,
    ]  # fmt: skip
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_digest(event: SecurityEvent) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


def link_digest(prev_hash: str, seq: int, content_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}:{seq}:{content_hash}".encode()).hexdigest()


def _head() -> ChainState:
    ChainState.objects.get_or_create(pk=HEAD_ID)
    return ChainState.objects.select_for_update().get(pk=HEAD_ID)


def seal_pending(*, limit: int = SEAL_BATCH, wait: bool = True) -> int:
    """Detect and link up to ``limit`` unsealed events to the chain; return how many.

    Detection runs on exactly the rows being sealed, in the sealing transaction: a row is in the
    chain only once detection has seen it, and a sealer killed half-way leaves both undone for
    the next. With ``wait=False`` the call returns 0 at once when another sealer holds the head,
    since that sealer (or the next scheduled run) will take these rows too.
    """
    with transaction.atomic():
        ChainState.objects.get_or_create(pk=HEAD_ID)
        heads = ChainState.objects.select_for_update(skip_locked=not wait).filter(pk=HEAD_ID)
        head = heads.first()
        if head is None:
            return 0

        pending = list(SecurityEvent.objects.filter(chain_seq__isnull=True).order_by("id")[:limit])
        seq, prev = head.last_seq, head.last_hash
        for event in pending:
            seq += 1
            event.chain_seq = seq
            event.content_hash = content_digest(event)
            event.prev_hash = prev
            event.chain_hash = link_digest(prev, seq, event.content_hash)
            prev = event.chain_hash
        if not pending:
            return 0

        _detect(pending)
        _write_seals(pending)
        head.last_seq, head.last_hash, head.sealed_at = seq, prev, timezone.now()
        head.save(update_fields=["last_seq", "last_hash", "sealed_at"])
    return len(pending)


def _detect(events: list[SecurityEvent]) -> None:
    from apps.siem import detection

    try:
        with transaction.atomic():
            detection.detect([event.pk for event in events])
    except Exception:
        # A rule that fails must not hold the chain (and every later event) back: the events
        # are sealed all the same and operators get the traceback.
        logger.exception("detection failed for events %s..%s", events[0].pk, events[-1].pk)


def _write_seals(events: list[SecurityEvent]) -> None:
    # One prepared UPDATE run for every row (psycopg pipelines them): Django's bulk_update
    # builds a CASE expression per row and field, which costs seconds for a few thousand rows.
    table = connection.ops.quote_name(SecurityEvent._meta.db_table)
    sql = (
        f"UPDATE {table} SET chain_seq = %s, content_hash = %s, prev_hash = %s, "  # noqa: S608
        "chain_hash = %s WHERE id = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [(e.chain_seq, e.content_hash, e.prev_hash, e.chain_hash, e.pk) for e in events],
        )


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    bad_event_id: int | None = None
    bad_seq: int | None = None
    reason: str = ""

    def __str__(self):
        if self.ok:
            return f"chain intact: {self.checked} sealed events verified"
        where = f"event #{self.bad_event_id}" if self.bad_event_id else f"sequence {self.bad_seq}"
        return f"chain broken at {where}: {self.reason}"


def verify_chain() -> Verification:
    """Walk the sealed events in chain order and report the first one that does not add up."""
    purge = EventPurge.objects.order_by("-last_seq").first()
    expected_seq = purge.last_seq + 1 if purge else 1
    prev = purge.last_hash if purge else ""
    checked = 0

    events = SecurityEvent.objects.filter(chain_seq__isnull=False).order_by("chain_seq")
    for event in events.iterator(chunk_size=VERIFY_CHUNK):
        problem = _check(event, expected_seq, prev)
        if problem:
            return Verification(False, checked, event.pk, event.chain_seq, problem)
        checked += 1
        expected_seq, prev = event.chain_seq + 1, event.chain_hash

    head = ChainState.objects.filter(pk=HEAD_ID).first()
    if head and (head.last_seq != expected_seq - 1 or head.last_hash != prev):
        return Verification(
            False, checked, None, expected_seq,
            f"chain ends at sequence {expected_seq - 1} but its head says {head.last_seq}: "
            "the newest sealed events were removed or changed",
        )  # fmt: skip
    return Verification(True, checked)


def _check(event: SecurityEvent, expected_seq: int, prev: str) -> str:
    if event.chain_seq != expected_seq:
        return (
            f"sequence {event.chain_seq} found where {expected_seq} was expected: "
            "an event before it was removed or moved"
        )
    if content_digest(event) != event.content_hash:
        return "its content no longer matches its hash: the row was edited or swapped"
    if event.prev_hash != prev:
        return "it does not link to its predecessor: events were reordered or replaced"
    if link_digest(prev, event.chain_seq, event.content_hash) != event.chain_hash:
        return "its chain hash was rewritten"
    return ""


def purge_events(*, older_than, actor: str) -> EventPurge | None:
    """Remove the oldest sealed events before ``older_than``; the one way events are deleted.

    Only a prefix of the chain goes, so what remains still verifies from the purge record,
    which keeps the last removed hash as the new anchor.
    """
    import pgtrigger

    with transaction.atomic():
        head = _head()
        purged = EventPurge.objects.order_by("-last_seq").first()
        first_seq = purged.last_seq + 1 if purged else 1
        newest_kept = (
            SecurityEvent.objects.filter(chain_seq__gte=first_seq, occurred_at__gte=older_than)
            .order_by("chain_seq")
            .values_list("chain_seq", flat=True)
            .first()
        )
        last_seq = (newest_kept - 1) if newest_kept else head.last_seq
        if last_seq < first_seq:
            return None

        last_hash = SecurityEvent.objects.get(chain_seq=last_seq).chain_hash
        doomed = SecurityEvent.objects.filter(chain_seq__gte=first_seq, chain_seq__lte=last_seq)
        record = EventPurge.objects.create(
            actor=actor, older_than=older_than, first_seq=first_seq, last_seq=last_seq,
            removed=doomed.count(), last_hash=last_hash,
        )  # fmt: skip
        # Incidents keep their own record; their links to the purged events go with them.
        with pgtrigger.ignore("siem.SecurityEvent:refuse_deletes"):
            doomed.delete()
    logger.warning("purged security events #%s-#%s by %s", first_seq, last_seq, actor)
    return record
