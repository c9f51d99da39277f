"""Re-encrypt stored values to the current primary keys, in short batches that can resume.

A rotation walks one model's table in primary-key order, a batch at a time. Each batch is one
short transaction that locks only its own rows (SELECT ... FOR UPDATE), so the table stays
writable; web requests that touch a locked row wait for one batch at most. Values already
under the primary key are left alone, others are decrypted and sealed again; blind indexes
computed with an older index key are recomputed. The batch's last key is saved with the same
commit, so a rotation stopped by a crash resumes after the last finished batch, and a batch
rolled back by the crash is simply done again.
"""

import logging
import types
from collections.abc import Callable

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from apps.core.crypto.fields import BlindIndexField, EncryptedField, StoredCiphertext
from apps.core.crypto.keyring import default_keyring, key_id_of
from apps.core.models import KeyRotation

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000


def encrypted_models():
    """Every installed model with an encrypted field or a blind index."""
    return [model for model in apps.get_models() if _encrypted_fields(model)]


def _encrypted_fields(model):
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


def _index_fields(model):
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def rotation_target(model) -> str:
    keyring = default_keyring()
    keysets = {f.keyset for f in _encrypted_fields(model) + _index_fields(model)}
    return ",".join(f"{name}:{keyring.primary_key_id(name)}" for name in sorted(keysets))


def rotate_model(
    model,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[KeyRotation], None] | None = None,
) -> KeyRotation:
    """Bring every row of ``model`` to the current primary keys; safe to run again."""
    run, _ = KeyRotation.objects.get_or_create(
        model_label=model._meta.label, target=rotation_target(model)
    )
    while run.state != KeyRotation.State.FINISHED:
        try:
            run = _rotate_one_batch(model, run.pk, batch_size)
        except Exception as error:
            KeyRotation.objects.filter(pk=run.pk).update(
                state=KeyRotation.State.FAILED, last_error=type(error).__name__[:255]
            )
            logger.warning("rotation of %s stopped at %r", model._meta.label, run.cursor)
            raise
        if on_progress is not None:
            on_progress(run)
    return run


def rotate_all(**options) -> list[KeyRotation]:
    # A key added by the key command in another process is seen now, not a second later.
    default_keyring().reload()
    return [rotate_model(model, **options) for model in encrypted_models()]


def _rotate_one_batch(model, run_pk: int, batch_size: int) -> KeyRotation:
    keyring = default_keyring()
    encrypted, indexes = _encrypted_fields(model), _index_fields(model)
    primaries = {f.keyset: keyring.primary_key_id(f.keyset) for f in encrypted + indexes}
    pk_field = model._meta.pk

    with transaction.atomic():
        # Locking the progress row makes two rotations of one model take turns, batch by batch.
        run = KeyRotation.objects.select_for_update().get(pk=run_pk)
        if run.state == KeyRotation.State.FINISHED:
            return run

        rows = model._base_manager.order_by("pk").select_for_update()
        if run.cursor:
            rows = rows.filter(pk__gt=pk_field.to_python(run.cursor))
        columns = [
            "pk",
            "row_nonce",
            *(StoredCiphertext(f.name) for f in encrypted),
            *(f.attname for f in indexes),
        ]
        batch = list(rows.values_list(*columns)[:batch_size])

        rotated = (_rotated_row(row, encrypted, indexes, primaries) for row in batch)
        changed = [row for row in rotated if row is not None]
        if changed:
            _write_batch(model, encrypted + indexes, changed)

        run.batches += 1
        run.rows_seen += len(batch)
        run.rows_rewritten += len(changed)
        run.last_error = ""
        if batch:
            run.cursor = str(batch[-1][0])
        if len(batch) < batch_size:
            run.state = KeyRotation.State.FINISHED
            run.finished_at = timezone.now()
        else:
            run.state = KeyRotation.State.RUNNING
        run.save()
    return run


def _rotated_row(row, encrypted, indexes, primaries):
    """The row's new column values, or None when everything is under the primary keys."""
    pk, nonce, *values = row
    stand_in = types.SimpleNamespace(pk=pk, row_nonce=nonce)
    new_values, plaintexts, touched = [], {}, False

    for field, value in zip(encrypted, values, strict=False):
        data = None if value is None else bytes(value)
        resealed = None if data is None else field.reseal(stand_in, data, primaries[field.keyset])
        new_values.append(data if resealed is None else resealed)
        touched |= resealed is not None
        plaintexts[field.name] = (field, data)

    for field, value in zip(indexes, values[len(encrypted) :], strict=True):
        if value is None or int(value.split(":", 1)[0], 16) == primaries[field.keyset]:
            new_values.append(value)
            continue
        source, data = plaintexts[field.source]
        plaintext = source.from_bytes(source._decrypt(stand_in, data)) if data else None
        normalized = field.normalize(plaintext)
        new_values.append(None if normalized is None else field.digest(normalized))
        touched = True

    return (pk, *new_values) if touched else None


def _write_batch(model, fields, rows) -> None:
    """One UPDATE for the whole batch: one round trip, not one per row."""
    database = connections[DEFAULT_DB_ALIAS]  # looked up once: the proxy costs per access
    quote = database.ops.quote_name
    table = quote(model._meta.db_table)
    pk_column = quote(model._meta.pk.column)
    names = ["pk", *(f"v{i}" for i in range(len(fields)))]
    types = [model._meta.pk.db_type(database), *(f.db_type(database) for f in fields)]
    assignments = ", ".join(f"{quote(field.column)} = v.v{i}" for i, field in enumerate(fields))
    columns = list(zip(*rows, strict=True))

    if database.vendor == "postgresql":
        # One array per column: the statement has as many parameters as columns, whatever the
        # batch size, so neither the driver nor the server parses thousands of placeholders.
        arrays = ", ".join(f"%s::{db_type.split('(')[0]}[]" for db_type in types)
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608 - names are quoted identifiers
            f"FROM unnest({arrays}) AS v ({', '.join(names)}) WHERE {table}.{pk_column} = v.pk"
        )
        params = [list(column) for column in columns]
    else:
        placeholder = "(" + ", ".join(f"CAST(%s AS {db_type})" for db_type in types) + ")"
        values = ", ".join([placeholder] * len(rows))
        sql = (
            f"WITH v ({', '.join(names)}) AS (VALUES {values}) "  # noqa: S608
            f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{pk_column} = v.pk"
        )
        params = [value for row in rows for value in row]
    with database.cursor() as cursor:
        cursor.execute(sql, params)


# --- Which keys are still in use ------------------------------------------------------


def key_usage(keyset: str) -> dict[int, int]:
    """How many stored values each key id of ``keyset`` sealed or hashed, over all tables."""
    usage: dict[int, int] = {}
    for model in apps.get_models():
        table = connection.ops.quote_name(model._meta.db_table)
        for field in _encrypted_fields(model) + _index_fields(model):
            if field.keyset != keyset:
                continue
            column = connection.ops.quote_name(field.column)
            # Ciphertexts carry the key id in bytes 2-5; index values start with it in hex.
            prefix = (
                f"SUBSTR({column}, 1, 8)"
                if isinstance(field, BlindIndexField)
                else f"SUBSTR({column}, 1, 5)"
            )
            sql = (
                f"SELECT {prefix}, COUNT(*) FROM {table} "  # noqa: S608 - quoted identifiers
                f"WHERE {column} IS NOT NULL GROUP BY {prefix}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql)
                for prefix_value, count in cursor.fetchall():
                    key_id = (
                        int(prefix_value, 16)
                        if isinstance(field, BlindIndexField)
                        else key_id_of(bytes(prefix_value))
                    )
                    usage[key_id] = usage.get(key_id, 0) + count
    return usage
