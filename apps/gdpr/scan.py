"""The verification scan: search every text and JSON column for a subject's former identifiers.

The scan reads the database's own catalogue rather than Django's models, so that a table no
provider knows about (a third-party app, a hand-made table) is searched too. Emails and phone
numbers are searched anywhere inside a value; names only as a whole value, because a short name
inside free text matches unrelated words. The result names tables and columns, never values.
"""

import time

from django.db import connection

from apps.gdpr.models import ErasureIdentifier

# The identifiers themselves are kept here until the scan is clean, so this table is skipped.
SKIPPED_TABLES = {ErasureIdentifier._meta.db_table}
TEXT_FIELD_TYPES = {"CharField", "TextField", "JSONField", "EmailField", "SlugField"}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_columns(*, shortest: int = 0) -> dict[str, list[str]]:
    """Text and JSON columns per table, leaving out those too short to hold any identifier."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.get_table_list(cursor):
            if table.type != "t" or table.name in SKIPPED_TABLES:
                continue
            columns = []
            for column in connection.introspection.get_table_description(cursor, table.name):
                try:
                    field_type = connection.introspection.get_field_type(column.type_code, column)
                except KeyError:
                    continue
                too_short = column.display_size is not None and column.display_size < shortest
                if field_type in TEXT_FIELD_TYPES and not too_short:
                    columns.append(column.name)
            if columns:
                found[table.name] = columns
    return found


def _condition(column: str, substrings: list[str], whole: list[str]) -> tuple[str, list]:
    quoted = f"LOWER(CAST({connection.ops.quote_name(column)} AS TEXT))"
    sql, params = [], []
    for value in substrings:
        sql.append(f"{quoted} LIKE %s ESCAPE '\\'")
        params.append(f"%{_escape_like(value)}%")
    if whole:
        # One IN list rather than an OR per name: PostgreSQL hashes a long constant list.
        sql.append(f"{quoted} IN ({', '.join(['%s'] * len(whole))})")
        params.extend(whole)
    return " OR ".join(sql), params


def _any_row(cursor, table: str, conditions: list[tuple[str, list]]) -> bool:
    where = " OR ".join(f"({sql})" for sql, _ in conditions)
    params = [param for _, column_params in conditions for param in column_params]
    # Table and column names come from the database's own catalogue; values are bound.
    table_name = connection.ops.quote_name(table)
    cursor.execute(f"SELECT 1 FROM {table_name} WHERE {where} LIMIT 1", params)  # noqa: S608
    return cursor.fetchone() is not None


def scan_for(*, substrings: list[str], whole: list[str]) -> dict:
    """Return {"clean": bool, "tables": n, "hits": [{"table", "column"}]}.

    Each table is read once with every column in one condition; only a table that matches is
    searched again column by column, to name the columns in the result.
    """
    substrings = sorted({value.lower() for value in substrings if value})
    whole = sorted({value.lower() for value in whole if value})
    started = time.perf_counter()
    shortest = min(len(value) for value in substrings + whole) if substrings or whole else 0
    columns_by_table = text_columns(shortest=shortest)
    hits = []
    if not substrings and not whole:
        return {"clean": True, "tables": len(columns_by_table), "hits": hits}

    with connection.cursor() as cursor:
        for table, columns in columns_by_table.items():
            conditions = {column: _condition(column, substrings, whole) for column in columns}
            if not _any_row(cursor, table, list(conditions.values())):
                continue
            hits.extend(
                {"table": table, "column": column}
                for column, condition in conditions.items()
                if _any_row(cursor, table, [condition])
            )
    return {
        "clean": not hits,
        "tables": len(columns_by_table),
        "columns": sum(len(columns) for columns in columns_by_table.values()),
        "seconds": round(time.perf_counter() - started, 3),
        "hits": hits,
    }
