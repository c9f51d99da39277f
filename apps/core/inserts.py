"""Inserting rows with statements built once, for the writes made on every request.

``Model.save()`` builds and compiles its INSERT afresh each time: for a security event, about
200 microseconds of Python here, more than PostgreSQL's own work on the row. The hottest
writers (``apps.siem.events.emit`` and the card vault's tokenisation) build their statement
once per process from the model's columns instead, and let PostgreSQL keep its plan for the
life of the connection (a prepared statement), which saves parsing and planning a statement
of some thirty parameters on every call.

What a save does besides the INSERT is repeated here: the fields prepare their own values
(encrypted fields refuse plain text as they would in a save), the instance is marked as saved,
and ``post_save`` is sent, so receivers (detection, for events) see no difference.

Prepared statements do not survive a connection pooler in transaction mode that does not track
them (PgBouncer before 1.21): ``DATABASE_PREPARED_STATEMENTS=false`` turns them off, and the
statements are then sent whole each time.
"""

import contextlib
import functools

from django.conf import settings
from django.db.models.signals import post_save


def insertable_fields(model) -> list:
    """The concrete fields an INSERT names: all but the primary key, which the database draws."""
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def insert_statement(model, connection) -> str:
    """``INSERT INTO <table> (<columns>) VALUES (%s, ...) RETURNING <pk>`` for ``model``."""
    quote = connection.ops.quote_name
    fields = insertable_fields(model)
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Only the model's own table and column names are formatted in; every value is a parameter.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({placeholders}) RETURNING {quote(model._meta.pk.column)}"
    )


def values_of(row, fields, connection) -> list:
    """The parameters for ``fields`` of ``row``, prepared by each field as a save would."""
    return [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]


@contextlib.contextmanager
def prepared_cursor(connection):
    """A cursor of ``connection`` whose statements PostgreSQL plans once per connection.

    It goes through Django's cursor wrapper, so statements are still logged in DEBUG, counted
    by the tests' query captures and passed through any execute wrapper.
    """
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return

    connection.ensure_connection()
    driver_cursor = _preparing_cursor_class()(connection.connection)
    # _prepare_cursor is how Django's own cursor() wraps a driver cursor (checks, debug log).
    with connection._prepare_cursor(driver_cursor) as cursor:
        yield cursor


@functools.cache
def _preparing_cursor_class():
    import psycopg

    class PreparingCursor(psycopg.Cursor):
        # Django opens its connections with prepared statements off, for poolers; these few
        # statements ask for them explicitly.
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


def mark_inserted(row, pk, connection) -> None:
    """Leave ``row`` as ``save(force_insert=True)`` would have, and tell ``post_save``."""
    row.pk = pk
    row._state.adding = False
    row._state.db = connection.alias
    post_save.send(
        sender=type(row), instance=row, created=True, update_fields=None, raw=False,
        using=connection.alias,
    )  # fmt: skip
