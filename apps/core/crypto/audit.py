"""What happened to encrypted data during one unit of work, told to whoever listens.

``apps.core`` imports no other app, so it cannot write security events itself. It sends two
signals instead, and the security-event app turns them into events:

* ``data_accessed``: once per batch (one web request, one task), listing the access-logged
  fields that were decrypted and whose data they were, rather than one event per field read;
* ``decryption_failed``: for every value that could not be decrypted.

Inside a web request both are sent by ``DataAccessMiddleware`` after the view has returned,
outside the request's transaction: a failed decryption usually ends the request with an error,
and a notice sent inside the transaction would be rolled back with it. Code outside requests
opens its own batch with ``access_batch()``; a read outside any batch is reported on its own.
"""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.dispatch import Signal

# Sent with: actor (a user or a "task:<name>" string or None), reads (list of AccessedField),
# subjects (sorted list of subject references such as "user:7").
data_accessed = Signal()
# Sent with: model (label), field (name), pk, key_id (int or None), reason (str).
decryption_failed = Signal()

# A batch names at most this many subjects; beyond it only the count is kept.
MAX_SUBJECTS_LISTED = 100


@dataclass(frozen=True)
class AccessedField:
    model: str
    field: str
    rows: int


@dataclass
class _Batch:
    actor: object = None
    # (model label, field name) -> [policy, row, row, ...]: appending a row is all a read
    # costs; counting rows and naming subjects waits for the flush.
    reads: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)


_current: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar(
    "portal_data_access_batch", default=None
)


def record_read(model: str, field_name: str, row, policy) -> None:
    """Note that ``row``'s field was decrypted for a reader; ``policy`` names its subject."""
    batch = _current.get()
    if batch is None:
        _send_reads(_Batch(reads={(model, field_name): [policy, row]}))
        return
    key = (model, field_name)
    rows = batch.reads.get(key)
    if rows is None:
        batch.reads[key] = [policy, row]
    else:
        rows.append(row)


def record_failure(**notice) -> None:
    batch = _current.get()
    if batch is None:
        decryption_failed.send(sender=None, **notice)
    else:
        batch.failures.append(notice)


@contextmanager
def access_batch(actor=None):
    """Collect reads and failures until the block ends, then report them once."""
    batch = _Batch(actor=actor)
    token = _current.set(batch)
    try:
        yield batch
    finally:
        _current.reset(token)
        flush(batch)


def set_batch_actor(actor) -> None:
    batch = _current.get()
    if batch is not None:
        batch.actor = actor


def flush(batch: _Batch) -> None:
    for notice in batch.failures:
        decryption_failed.send(sender=None, **notice)
    if batch.reads:
        _send_reads(batch)


def _send_reads(batch: _Batch) -> None:
    # A row whose five fields were read appears five times: its primary key and subject are
    # looked up once (the batch holds the rows, so their ids stay theirs until it ends).
    known_rows: dict[int, tuple] = {}
    rows: dict[tuple[str, str], set] = {}
    for (model, name), (policy, *read_rows) in batch.reads.items():
        pks = rows.setdefault((model, name), set())
        for row in read_rows:
            known = known_rows.get(id(row))
            if known is None:
                known = known_rows[id(row)] = (row.pk, policy.subject_of(row))
            pks.add(known[0])
    subjects = {subject for _, subject in known_rows.values()}
    subjects.discard(None)
    data_accessed.send(
        sender=None,
        actor=batch.actor,
        reads=[
            AccessedField(model=model, field=name, rows=len(pks))
            for (model, name), pks in sorted(rows.items())
        ],
        subjects=sorted(subjects)[:MAX_SUBJECTS_LISTED],
        subject_count=len(subjects),
    )


class DataAccessMiddleware:
    """One batch per request; placed after the authentication middleware to know the actor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with access_batch() as batch:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            batch.actor = user if user is not None and user.is_authenticated else None
        return response


# --- One batch per Celery task -----------------------------------------------------------

_task_batches: dict[str, tuple[_Batch, contextvars.Token]] = {}


def open_task_batch(sender=None, task_id=None, task=None, **kwargs) -> None:
    """Connected to Celery's task_prerun: reads during a task are reported once, at its end."""
    batch = _Batch(actor=f"task:{getattr(task, 'name', sender)}")
    _task_batches[task_id] = (batch, _current.set(batch))


def close_task_batch(sender=None, task_id=None, **kwargs) -> None:
    """Connected to Celery's task_postrun, which runs whether the task succeeded or failed."""
    opened = _task_batches.pop(task_id, None)
    if opened is None:
        return
    batch, token = opened
    _current.reset(token)
    flush(batch)
