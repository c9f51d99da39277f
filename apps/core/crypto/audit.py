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
    rows: dict = field(default_factory=dict)  # (model, field) -> set of pks
    subjects: set = field(default_factory=set)
    failures: list = field(default_factory=list)


_current: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar(
    "portal_data_access_batch", default=None
)


def record_read(*, model: str, field_name: str, pk, subject: str | None) -> None:
    batch = _current.get()
    if batch is None:
        _send_reads(_Batch(rows={(model, field_name): {pk}}, subjects={subject} - {None}))
        return
    batch.rows.setdefault((model, field_name), set()).add(pk)
    if subject:
        batch.subjects.add(subject)


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
    if batch.rows:
        _send_reads(batch)


def _send_reads(batch: _Batch) -> None:
    reads = [
        AccessedField(model=model, field=name, rows=len(pks))
        for (model, name), pks in sorted(batch.rows.items())
    ]
    data_accessed.send(
        sender=None,
        actor=batch.actor,
        reads=reads,
        subjects=sorted(batch.subjects)[:MAX_SUBJECTS_LISTED],
        subject_count=len(batch.subjects),
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
