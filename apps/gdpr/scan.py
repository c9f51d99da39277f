"""The verification scan: search every text and JSON column for a subject's former identifiers.

The scan reads the database's own catalogue rather than Django's models, so that a table no
provider knows about (a third-party app, a hand-made table) is searched too. Emails and phone
numbers are searched anywhere inside a value; names only as a whole value, because a short name
inside free text matches unrelated words. The result names tables and columns, never values.
"""

from django.db import connection

from apps.gdpr.models import ErasureIdentifier

# The identifiers themselves are kept here until the scan is clean, so this table is skipped.
SKIPPED_TABLES = {ErasureIdentifier._meta.db_table}
TEXT_FIELD_TYPES = {"CharField", "TextField", "JSONField", "EmailField", "SlugField"}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_columns() -> dict[str, list[str]]:
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
                if field_type in TEXT_FIELD_TYPES:
                    columns.append(column.name)
            if columns:
                found[table.name] = columns
    return found


def _conditions(column: str, substrings: list[str], whole: list[str]):
    quoted = f"LOWER(CAST({connection.ops.quote_name(column)} AS TEXT))"
    sql, params = [], []
    for value in substrings:
        sql.append(f"{quoted} LIKE %s ESCAPE '\\'")
        params.append(f"%{_escape_like(value)}%")
    for value in whole:
        sql.append(f"{quoted} = %s")
        params.append(value)
    return sql, params


def scan_for(*, substrings: list[str], whole: list[str]) -> dict:
    """Return {"clean": bool, "tables": n, "hits": [{"table", "column"}]}."""
    substrings = [value.lower() for value in substrings if value]
    whole = [value.lower() for value in whole if value]
    columns_by_table = text_columns()
    hits = []
    with connection.cursor() as cursor:
        for table, columns in columns_by_table.items():
            for column in columns:
                sql, params = _conditions(column, substrings, whole)
                if not sql:
                    continue
                cursor.execute(
                    f"SELECT 1 FROM {connection.ops.quote_name(table)} "  # noqa: S608 - names from the catalogue, values bound
                    f"WHERE {' OR '.join(sql)} LIMIT 1",
                    params,
                )
                if cursor.fetchone():
                    hits.append({"table": table, "column": column})
    return {"clean": not hits, "tables": len(columns_by_table), "hits": hits}
