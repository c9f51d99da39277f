"""The verification scan: search every text and JSON column for a subject's former identifiers.

The scan reads the database's own catalogue rather than Django's models, so that a table no
provider knows about (a third-party app, a hand-made table) is searched too. Emails and phone
numbers are searched anywhere inside a value; names only as a whole value, because a short name
inside free text matches unrelated words. The result names tables and columns, never values.

How it scales with the subject rather than the database: each table's text and JSON columns are
searched as one "haystack", every column between two separator characters (U+001F), so that a
whole-value match is a substring match of separator, name, separator. On PostgreSQL each table
carries one trigram index (pg_trgm, GIN) over exactly that expression, created after every
migrate by ``ensure_search_indexes``; a search then reads the index and rechecks the few rows it
points at, instead of every row. The index only finds candidates: the recheck is the same
condition evaluated on the row, so a match is never missed because of the index. A table without
its index (made by hand, or its columns changed since the last migrate) is still searched, by
reading every row, and is named in the result as unindexed. SQLite reads every row.

Some text columns can hold only what the code computes: a blind index (searched through it,
below), and the columns a model lists in ``gdpr_scan_skips`` (the chain hashes of security
events, a card's token and keyed fingerprint). No identifier can be written into them, yet each
would cost its table's trigram index a hundred or more entries per row written; so they are
left out of the haystack. Every other column, of every table, is searched.

A model may also name a column in ``gdpr_scan_indexed_once_set``: its rows enter the trigram index
only once that column is set, and the few rows still without it are read through an index of
their own. Security events do this with their chain sequence, so the event a request writes
costs it no trigram entries; the sealer, which rewrites every new row shortly after anyway, adds
them. A search is then the union of the indexed rows that match and the rest that match.

Encrypted columns hold ciphertext (``bytea`` / ``BLOB``), which no text search sees into. An
encrypted column with a blind index is searched through it instead: every identifier is hashed
as that index would hash it (its own normaliser), so an exact value left behind is found; an
encrypted column without a blind index cannot be searched, and its provider deletes or
overwrites it (docs/gdpr.md).
"""

import hashlib
import time

from django.apps import apps
from django.db import connection
from django.db.models import UUIDField

from apps.gdpr.models import ErasureIdentifier

# The identifiers themselves are kept here until the scan is clean, so this table is skipped.
SKIPPED_TABLES = {ErasureIdentifier._meta.db_table}
TEXT_FIELD_TYPES = {"CharField", "TextField", "JSONField", "EmailField", "SlugField"}
SEPARATOR = "\x1f"
INDEX_PREFIX = "gdpr_scan_"

# Every column of a string type (text, varchar, char, citext...), JSON, or an array of either:
# whatever a person's address could be written into as text.
_POSTGRES_COLUMNS = """
    SELECT c.relname, a.attname
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
     WHERE c.relkind = 'r' AND n.nspname = ANY (current_schemas(false))
       AND a.attnum > 0 AND NOT a.attisdropped
       AND (t.typcategory = 'S' OR t.typname IN ('json', 'jsonb')
            OR e.typcategory = 'S' OR e.typname IN ('json', 'jsonb'))
     ORDER BY c.relname, a.attnum
"""
_POSTGRES_SCAN_INDEXES = """
    SELECT i.relname, c.relname
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class c ON c.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY (current_schemas(false)) AND i.relname LIKE %s
"""


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


# The same, for models of other packages, which cannot say so themselves. A session's data is
# signed base64 (Django's session encoding), where no identifier appears as text, and its key is
# random; yet every login writes the row twice, each time feeding the index hundreds of trigrams.
# OAuth tokens and their checksums are random strings and digests, written at every token issue.
OTHER_PACKAGES_SKIPS = {
    "sessions.session": ("session_key", "session_data"),
    "usersessions.usersession": ("session_key",),
    "oauth2_provider.accesstoken": ("token", "token_checksum"),
    "oauth2_provider.refreshtoken": ("token", "token_checksum"),
}


def computed_columns() -> dict[str, set[str]]:
    """Per table, the text columns that hold only values the code computes, never a person's.

    A blind index column (searched through the index instead), a UUID, and whatever a model
    names in ``gdpr_scan_skips`` (or ``OTHER_PACKAGES_SKIPS`` names for it); a field is listed
    there only when no caller, client or import writes text into it that the scan could read.
    """
    from apps.core.crypto.fields import BlindIndexField

    computed: dict[str, set[str]] = {}
    for model in apps.get_models():
        declared = set(getattr(model, "gdpr_scan_skips", ()))
        declared.update(OTHER_PACKAGES_SKIPS.get(model._meta.label_lower, ()))
        for field in model._meta.concrete_fields:
            # A UUID column (text on SQLite) can hold nothing but a UUID.
            if isinstance(field, BlindIndexField | UUIDField) or field.name in declared:
                computed.setdefault(model._meta.db_table, set()).add(field.column)
    return computed


def _without_computed(found: dict[str, list[str]]) -> dict[str, list[str]]:
    computed = computed_columns()
    kept = {
        table: [column for column in columns if column not in computed.get(table, ())]
        for table, columns in found.items()
    }
    return {table: columns for table, columns in kept.items() if columns}


def text_columns(*, table: str | None = None) -> dict[str, list[str]]:
    """Text and JSON columns per table, in the table's column order, less computed ones."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(_POSTGRES_COLUMNS)
            for table_name, column in cursor.fetchall():
                found.setdefault(table_name, []).append(column)
        else:
            for info in connection.introspection.get_table_list(cursor):
                if info.type != "t":
                    continue
                columns = []
                for column in connection.introspection.get_table_description(cursor, info.name):
                    try:
                        kind = connection.introspection.get_field_type(column.type_code, column)
                    except KeyError:
                        continue
                    if kind in TEXT_FIELD_TYPES:
                        columns.append(column.name)
                if columns:
                    found[info.name] = columns
    for skipped in SKIPPED_TABLES:
        found.pop(skipped, None)
    found = _without_computed(found)
    if table is not None:
        return {table: found[table]} if table in found else {}
    return found


def _identifier(name: str) -> str:
    """A table or column name from the catalogue, quoted for a statement sent with parameters.

    Names are whatever a table's creator chose, and Django's ``quote_name`` leaves a double
    quote inside one as it is: it is doubled here, as SQL quotes it, and so is a percent sign,
    which the driver would otherwise take for a placeholder. So every statement holding one is
    sent with a parameter list, if need be an empty one, which turns ``%%`` back into ``%``.
    """
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


def _column_text(column: str) -> str:
    quoted = _identifier(column)
    separator = "chr(31)" if _postgres() else "char(31)"
    return f"COALESCE(CAST({quoted} AS TEXT), '') || {separator}"


def haystack(columns: list[str]) -> str:
    """The SQL text the trigram index of a table is built on, and every search compares with.

    Both must be spelled identically for PostgreSQL to use the index, so both come from here.
    """
    separator = "chr(31)" if _postgres() else "char(31)"
    return " || ".join([separator] + [_column_text(column) for column in columns])


def _patterns(substrings: list[str], whole: list[str]) -> list[str]:
    patterns = [f"%{_escape_like(value)}%" for value in substrings]
    patterns += [f"%{SEPARATOR}{_escape_like(value)}{SEPARATOR}%" for value in whole]
    return patterns


def _matches(text_sql: str, patterns: list[str]) -> tuple[str, list[str]]:
    # ILIKE is what pg_trgm indexes; SQLite has no ILIKE, and its LIKE needs the escape named.
    if _postgres():
        return " OR ".join(f"{text_sql} ILIKE %s" for _ in patterns), patterns
    lowered = [pattern.lower() for pattern in patterns]
    return " OR ".join(f"LOWER({text_sql}) LIKE %s ESCAPE '\\'" for _ in patterns), lowered


def indexed_once_set() -> dict[str, str]:
    """Per table, the column whose rows enter its trigram index only once it is set.

    Named by a model in ``gdpr_scan_indexed_once_set``, and only where the table also has an
    index that finds the rows where it is not set, so that those are still found cheaply.
    """
    return {
        model._meta.db_table: model._meta.get_field(model.gdpr_scan_indexed_once_set).column
        for model in apps.get_models()
        if getattr(model, "gdpr_scan_indexed_once_set", None)
    }


def index_name(table: str, columns: list[str]) -> str:
    """Named after the table, its exact column list and any condition on its rows, so a
    changed table gets a new index."""
    described = f"{table}|{','.join(columns)}"
    condition_column = indexed_once_set().get(table)
    if condition_column is not None:
        described += f"|{condition_column} IS NOT NULL"
    digest = hashlib.sha256(described.encode()).hexdigest()[:20]
    return f"{INDEX_PREFIX}{digest}"


def search_indexes() -> dict[str, set[str]]:
    """The scan's trigram indexes that exist, per table (PostgreSQL only)."""
    if not _postgres():
        return {}
    found: dict[str, set[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_POSTGRES_SCAN_INDEXES, [f"{INDEX_PREFIX}%"])
        for index, table in cursor.fetchall():
            found.setdefault(table, set()).add(index)
    return found


def trigram_available() -> bool:
    if not _postgres():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def ensure_search_indexes() -> list[str]:
    """Give every table with text or JSON columns its trigram index; return the tables changed.

    Run after every migrate (apps.py), so that a table added or altered by a later migration is
    covered. An index built for an older column list is replaced. Nothing happens on SQLite or
    without pg_trgm; the scan is as thorough then, only slower.
    """
    if not trigram_available():
        return []
    existing = search_indexes()
    wanted_columns = text_columns()
    deferred = indexed_once_set()
    changed = []
    quote = _identifier
    with connection.cursor() as cursor:
        # A table left with no searchable column (all of them computed) needs no index.
        for table in sorted(set(existing) - set(wanted_columns)):
            for stale in existing[table]:
                cursor.execute(f"DROP INDEX IF EXISTS {quote(stale)}", [])
            changed.append(table)
        for table, columns in wanted_columns.items():
            wanted = index_name(table, columns)
            present = existing.get(table, set())
            if wanted in present:
                continue
            for stale in present:
                cursor.execute(f"DROP INDEX IF EXISTS {quote(stale)}", [])
            condition = f" WHERE {quote(deferred[table])} IS NOT NULL" if table in deferred else ""
            # Names come from the catalogue and the models; nothing here is a value.
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(wanted)} ON {quote(table)} "
                f"USING gin (({haystack(columns)}) gin_trgm_ops){condition}",
                [],
            )
            changed.append(table)
    return changed


def rows_mentioning(model, values: list[str]) -> list:
    """Primary keys of the model's rows with any of ``values`` inside any text or JSON column.

    Through the table's scan index on PostgreSQL, so a provider can narrow a search inside free
    text (say, addresses inside a JSON list) to the few candidate rows and then apply its own,
    exact condition to them.
    """
    values = sorted({value for value in values if value})
    table = model._meta.db_table
    columns = text_columns(table=table).get(table)
    if not values or not columns:
        return []
    candidates, params = _matching_rows(table, columns, _patterns(values, []))
    pk = _identifier(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk} FROM ({candidates}) AS candidates", params)  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def _matching_rows(table: str, columns: list[str], patterns: list[str]) -> tuple[str, list]:
    """A SELECT of the table's rows whose haystack matches any pattern, and its parameters.

    For a table whose index takes rows in only once a column is set, the rows are asked for in
    two parts, each answerable by an index: the set ones through the trigram index, the rest
    through the index on the unset column. A single OR of the two would be folded by PostgreSQL
    into one condition that neither index answers.
    """
    quote = _identifier
    where, params = _matches(f"({haystack(columns)})", patterns)
    # Table and column names come from the database's own catalogue; values are bound.
    select = f"SELECT * FROM {quote(table)} WHERE "  # noqa: S608
    condition_column = indexed_once_set().get(table) if _postgres() else None
    if condition_column is None:
        return select + f"({where})", params
    column = quote(condition_column)
    return (
        f"{select}{column} IS NOT NULL AND ({where}) "
        f"UNION ALL {select}{column} IS NULL AND ({where})",
        params + params,
    )


def _columns_with_hits(cursor, table: str, columns: list[str], patterns: list[str]) -> list[str]:
    """One read of the candidate rows, through the table's index, naming the columns that match.

    A row matches through the table's haystack; which of its columns hold the value is asked of
    those rows only, so a clean table costs one index lookup.
    """
    candidates, params = _matching_rows(table, columns, patterns)
    flags, flag_params = [], []
    separator = "chr(31)" if _postgres() else "char(31)"
    for column in columns:
        condition, column_params = _matches(f"({separator} || {_column_text(column)})", patterns)
        flags.append(f"MAX(CASE WHEN {condition} THEN 1 ELSE 0 END)")
        flag_params.extend(column_params)
    # Table and column names come from the database's own catalogue; values are bound.
    cursor.execute(
        f"SELECT {', '.join(flags)} FROM ({candidates}) AS candidates",  # noqa: S608
        flag_params + params,
    )
    row = cursor.fetchone()
    if row is None or row[0] is None:
        return []
    named = [column for column, flag in zip(columns, row, strict=True) if flag]
    # A match that spans two columns cannot be pinned on one; the table is still reported.
    return named or ["?"]


def _alphanumerics(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _kept_whole(field, value: str) -> bool:
    """True when the index's normaliser keeps every letter and digit of the value.

    Only then is a match this identifier: a phone index keeps the digits of an email address
    ("sam1990@example.com" becomes "1990"), and a match on those would be someone's phone.
    """
    try:
        normalized = field.normalize(value)
    except (TypeError, ValueError):
        return False  # a value this index's normaliser refuses cannot be stored in it
    return normalized is not None and _alphanumerics(normalized) == _alphanumerics(value)


def _blind_index_hits(identifiers: list[str]) -> tuple[list[dict], int]:
    """Exact matches of any identifier in an encrypted column, through its blind index.

    Every identifier is tried against every blind index, each under that index's own
    normaliser: an index of phone numbers is asked about the emails too, which costs one hash.
    """
    from apps.core.crypto.fields import BlindIndexField

    hits, searched = [], 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, BlindIndexField):
                continue
            searched += 1
            digests = []
            for value in identifiers:
                if _kept_whole(field, value):
                    digests.extend(field.candidates(value))
            if digests and model._base_manager.filter(**{f"{field.name}__in": digests}).exists():
                hits.append(
                    {"table": model._meta.db_table, "column": field.column, "via": "blind_index"}
                )
    return hits, searched


def scan_for(*, substrings: list[str], whole: list[str]) -> dict:
    """Return {"clean", "tables", "columns", "unindexed", "blind_indexes", "seconds", "hits"}.

    ``hits`` lists {"table", "column"} (and "via" for a blind index), never a value.
    """
    # Blind indexes hash the value as written (their normalisers decide about letter case).
    as_given = sorted({value for value in substrings + whole if value})
    substrings = sorted({value.lower() for value in substrings if value})
    whole = sorted({value.lower() for value in whole if value})
    started = time.perf_counter()
    columns_by_table = text_columns()
    indexed = search_indexes()
    unindexed = sorted(
        table
        for table, columns in columns_by_table.items()
        if index_name(table, columns) not in indexed.get(table, set())
    )
    if not _postgres():
        unindexed = []  # no index exists to miss; every table is read in full by design
    hits = []
    blind_indexes = 0
    if substrings or whole:
        patterns = _patterns(substrings, whole)
        with connection.cursor() as cursor:
            for table, columns in columns_by_table.items():
                hits.extend(
                    {"table": table, "column": column}
                    for column in _columns_with_hits(cursor, table, columns, patterns)
                )
        blind, blind_indexes = _blind_index_hits(sorted(set(as_given + substrings + whole)))
        hits.extend(blind)
    return {
        "clean": not hits,
        "tables": len(columns_by_table),
        "columns": sum(len(columns) for columns in columns_by_table.values()),
        "unindexed": unindexed,
        "blind_indexes": blind_indexes,
        "seconds": round(time.perf_counter() - started, 3),
        "hits": hits,
    }
