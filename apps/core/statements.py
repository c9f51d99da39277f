"""Statements built once, for the writes and reads made on every request or every card use.

``Model.save()`` builds and compiles its INSERT afresh each time: for a security event, about 200
microseconds of Python here, and a ``get()`` of a card by its token took about 450 microseconds
more than the same read by a prepared statement. The hottest writers (``apps.siem.events.emit`` and
the card vault's tokenisation) and the vault's read of a card by its token build their statement
once per process from the model's columns instead. They also send it as a prepared statement, which
PostgreSQL parses and plans once per connection: the vault's statement, two inserts of some thirty
parameters, took about 200 microseconds less per call prepared than planned afresh (measured on
2026-12-05). Django's own cursors quote every value into the statement text on the client, which
these skip too.

What a save does besides the INSERT is repeated here: the fields prepare their own values
(encrypted fields refuse plain text as they would in a save), the instance is marked as saved,
and ``post_save`` is sent, so receivers (detection, for events) see no difference. A read
gives the instance the ORM would give, and leaves a model whose columns need converting on
the way out (none of those read here do) to the ORM.

Prepared statements do not survive a connection pooler in transaction mode that does not track
them (PgBouncer before 1.21): ``DATABASE_PREPARED_STATEMENTS=false`` turns them off, and the
statements are then sent whole each time.
"""

import contextlib
import functools

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save


@functools.cache
def insertable_fields(model) -> tuple:
    """The concrete fields an INSERT names: all but the primary key, which the database draws."""
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


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

    class StatementText:
        # What Django's query log reads back from a cursor (``cursor._query.query``).
        def __init__(self, query: str):
            self.query = query.encode()
            self.params = None

    class PreparingCursor(psycopg.Cursor):
        # Binds parameters on the server and asks for the statement to be prepared (the
        # connection's threshold, set in config/settings.py, lets only such requests through).
        def execute(self, query, params=None, *, prepare=None, binary=None):
            super().execute(query, params, prepare=True, binary=binary)
            # A prepared execution leaves no statement text on the cursor; without it Django's
            # query log and the tests' query captures would record None. The text has
            # placeholders, never the values.
            self._query = StatementText(query)
            return self

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


def get_by(model, column: str, value):
    """``model.objects.get(<column>=value)`` with a statement built once; None if no row.

    ``column`` must be unique, as a ``get()`` by it would otherwise fail on two rows.
    """
    statement = _select_statement(model, column)
    db = transaction.get_connection()
    fields = model._meta.concrete_fields
    if db.vendor != "postgresql" or _needs_converting(model, db.vendor):
        return model._default_manager.filter(**{column: value}).first()
    with prepared_cursor(db) as cursor:
        cursor.execute(statement, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    return model.from_db(db.alias, [field.attname for field in fields], row)


@functools.cache
def _select_statement(model, column: str) -> str:
    quote = transaction.get_connection().ops.quote_name
    field = model._meta.get_field(column)
    if not field.unique:
        raise ValueError(f"{model.__name__}.{column} is not unique")
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    # Only the model's own table and column names are formatted in; the value is a parameter.
    return (
        f"SELECT {columns} FROM {quote(model._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(field.column)} = %s"
    )


@functools.cache
def _needs_converting(model, vendor: str) -> bool:
    # Whether the ORM would pass any column through a converter (from_db_value, or the
    # backend's own) on its way out of this kind of database.
    connection = transaction.get_connection()
    return any(
        connection.ops.get_db_converters(column) or column.get_db_converters(connection)
        for column in (
            field.get_col(model._meta.db_table) for field in model._meta.concrete_fields
        )
    )
