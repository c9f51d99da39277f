"""The verification scan on its own: what it finds, where, and that its index is usable."""

import json

import pytest
from django.db import connection

from apps.accounts.models import Profile
from apps.core.models import OutboundEmail
from apps.gdpr import scan
from apps.partners.models import Customer, Partner
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

ERIN = "erin.subject@example.com"
ERIN_PHONE = "+44 20 7946 0123"
LATER_TABLE = "later_app_notes"
# The trigram indexes are PostgreSQL's; SQLite reads every row, which the other tests cover.
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only"
)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _make_later_table():
    """A table no migration and no model knows, as a later app or an operator might add."""
    json_type = "jsonb" if _postgres() else "text"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {LATER_TABLE} (id integer PRIMARY KEY, "
            f"note varchar(200), payload {json_type}, counter integer)"
        )


def _insert_note(row_id: int, *, note: str, payload: dict):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LATER_TABLE} (id, note, payload, counter) VALUES (%s, %s, %s, 1)",
            [row_id, note, json.dumps(payload)],
        )


def _hits(result) -> set[tuple[str, str]]:
    return {(hit["table"], hit["column"]) for hit in result["hits"]}


def test_a_table_added_later_is_found_from_the_catalogue_in_text_and_json_columns():
    _make_later_table()
    _insert_note(1, note="nothing personal", payload={"contact": {"email": ERIN.upper()}})
    _insert_note(2, note=f"Call {ERIN_PHONE} after five", payload={})

    result = scan.scan_for(substrings=[ERIN, ERIN_PHONE], whole=[])

    assert result["clean"] is False
    assert _hits(result) == {(LATER_TABLE, "payload"), (LATER_TABLE, "note")}
    assert ERIN not in json.dumps(result).lower(), "the result names places, never values"


@needs_postgres
def test_a_later_table_is_searched_without_its_index_and_found_through_it_once_made():
    _make_later_table()
    _insert_note(1, note=f"left: {ERIN}", payload={})

    before = scan.scan_for(substrings=[ERIN], whole=[])
    assert LATER_TABLE in before["unindexed"]
    assert _hits(before) == {(LATER_TABLE, "note")}

    assert LATER_TABLE in scan.ensure_search_indexes()
    after = scan.scan_for(substrings=[ERIN], whole=[])
    assert after["unindexed"] == []
    assert _hits(after) == {(LATER_TABLE, "note")}


@needs_postgres
def test_every_table_has_its_search_index_after_migrate():
    assert scan.trigram_available()
    result = scan.scan_for(substrings=["nobody@example.com"], whole=[])
    assert result["clean"] is True
    assert result["unindexed"] == []
    assert result["tables"] > 20


@needs_postgres
def test_the_search_condition_is_one_the_trigram_index_can_answer():
    # The index only helps if the query spells its expression exactly as the index does.
    # With sequential scans priced out, a plan without the index would mean they differ.
    table, columns = "core_outboundemail", scan.text_columns()["core_outboundemail"]
    where, params = scan._matches(f"({scan.haystack(columns)})", scan._patterns([ERIN], ["erin"]))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN SELECT 1 FROM {table} WHERE {where}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert scan.index_name(table, columns) in plan, plan


def test_names_match_whole_values_only_in_any_letter_case():
    _make_later_table()
    _insert_note(1, note="ERIN", payload={})
    _insert_note(2, note="Erinaceous hedgehogs", payload={})

    result = scan.scan_for(substrings=[], whole=["erin"])
    assert _hits(result) == {(LATER_TABLE, "note")}

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LATER_TABLE} WHERE id = 1")
    assert scan.scan_for(substrings=[], whole=["erin"])["clean"] is True


def test_an_address_in_an_encrypted_column_is_found_through_its_blind_index():
    partner = Partner.objects.create(name="Other partner")
    # Sealed: the ciphertext holds no text to search; the keyed hash beside it is exact.
    Customer.objects.create(partner=partner, reference="kept", email=f"  {ERIN.upper()} ")

    result = scan.scan_for(substrings=[ERIN], whole=[])

    assert {"table": "partners_customer", "column": "email_index", "via": "blind_index"} in (
        result["hits"]
    )
    assert result["blind_indexes"] >= 3


def test_a_phone_in_an_encrypted_profile_is_found_through_its_blind_index():
    someone = make_person("someone.else@example.com")
    Profile.objects.create(user=someone, phone="+442079460123")

    result = scan.scan_for(substrings=[ERIN_PHONE], whole=[])

    assert {"table": "accounts_profile", "column": "phone_index", "via": "blind_index"} in (
        result["hits"]
    )


def test_the_digits_of_an_address_do_not_count_as_a_phone_number():
    someone = make_person("someone.else@example.com")
    Profile.objects.create(user=someone, phone="1990")

    result = scan.scan_for(substrings=["erin1990@example.com"], whole=[])

    assert result["clean"] is True, result["hits"]


def test_rows_mentioning_names_only_rows_with_the_value_in_some_column():
    to_erin = OutboundEmail.objects.create(recipients=[ERIN], subject="Hello", body_text="")
    about_erin = OutboundEmail.objects.create(
        recipients=["staff@example.com"], subject=f"About {ERIN.title()}", body_text=""
    )
    OutboundEmail.objects.create(recipients=["other@example.com"], subject="Hi", body_text="")

    assert set(scan.rows_mentioning(OutboundEmail, [ERIN])) == {to_erin.pk, about_erin.pk}
    assert scan.rows_mentioning(OutboundEmail, []) == []


def test_columns_only_the_code_computes_are_left_out_and_their_neighbours_kept():
    columns = scan.text_columns()

    # A profile's text columns are all blind indexes: searched through them, not as text.
    # A session's are a random key and signed base64, where no identifier shows as text.
    assert "accounts_profile" not in columns
    assert "django_session" not in columns
    assert columns["accounts_user"] == ["email"], "a password hash holds no identifier"
    assert "session_key" not in columns["usersessions_usersession"]
    assert "token" not in columns["oauth2_provider_accesstoken"]
    events = set(columns["siem_securityevent"])
    assert {"content_hash", "prev_hash", "chain_hash"}.isdisjoint(events)
    assert {"actor", "subject", "user_agent", "details"} <= events
    cards = set(columns["pci_cardtoken"])
    assert {"token", "fingerprint"}.isdisjoint(cards)
    assert "created_by" in cards


def test_an_address_in_an_events_details_is_still_found():
    from apps.siem.events import emit

    emit("auth.login.failure", details={"identifier": ERIN})

    assert (
        "siem_securityevent",
        "details",
    ) in _hits(scan.scan_for(substrings=[ERIN], whole=[]))


@needs_postgres
def test_a_table_left_with_only_computed_columns_loses_its_search_index():
    stale = f"{scan.INDEX_PREFIX}stale_profile_index"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX {stale} ON accounts_profile USING gin "
            "((COALESCE(phone_index, '')) gin_trgm_ops)"
        )
    assert stale in scan.search_indexes()["accounts_profile"]

    assert "accounts_profile" in scan.ensure_search_indexes()
    assert "accounts_profile" not in scan.search_indexes()
    assert scan.ensure_search_indexes() == [], "a second run finds nothing to change"


def test_an_event_is_found_before_it_is_sealed_and_after():
    from apps.siem.chain import seal_pending
    from apps.siem.events import emit

    event = emit("auth.login.failure", details={"identifier": ERIN})
    expected = {("siem_securityevent", "details")}

    assert expected <= _hits(scan.scan_for(substrings=[ERIN], whole=[])), "unsealed"
    assert seal_pending() >= 1
    event.refresh_from_db()
    assert event.chain_seq is not None
    sealed = scan.scan_for(substrings=[ERIN], whole=[])
    assert expected <= _hits(sealed), "sealed"
    assert "siem_securityevent" not in sealed["unindexed"]


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@needs_postgres
def test_events_enter_the_trigram_index_when_sealed_and_both_parts_are_searched_by_index():
    table, columns = "siem_securityevent", scan.text_columns()["siem_securityevent"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(x.indpred, x.indrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relname = %s",
            [scan.index_name(table, columns)],
        )
        (predicate,) = cursor.fetchone()
    assert predicate == "(chain_seq IS NOT NULL)", "a row written unsealed costs no trigrams"

    # Enough sealed rows, and statistics saying so, that the planner has a reason to choose.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (occurred_at, event_type, severity, outcome, actor, subject, "
            "user_agent, request_id, details, chain_seq, content_hash, prev_hash, chain_hash, "
            "service) SELECT now(), 'data.access', 'info', 'success', 'user:' || n, '', '', '', "
            "'{}', 1000000 + n, '', '', '', 'portal' FROM generate_series(1, 30000) AS n"
        )
        cursor.execute(f"ANALYZE {table}")
    candidates, params = scan._matching_rows(table, columns, scan._patterns([ERIN], ["erin"]))
    plan = _plan(f"SELECT 1 FROM ({candidates}) AS candidates", params)

    assert scan.index_name(table, columns) in plan, plan
    assert "siem_unsealed" in plan or "chain_seq_key" in plan, plan
    assert "Seq Scan" not in plan, plan


@needs_postgres
def test_an_event_index_made_before_it_waited_for_sealing_is_replaced():
    # As a database migrated before the condition existed has it: every row, sealed or not.
    table, columns = "siem_securityevent", scan.text_columns()["siem_securityevent"]
    with connection.cursor() as cursor:
        for present in scan.search_indexes()[table]:
            cursor.execute(f"DROP INDEX {present}")
        cursor.execute(
            f"CREATE INDEX {scan.INDEX_PREFIX}older_events ON {table} "
            f"USING gin (({scan.haystack(columns)}) gin_trgm_ops)"
        )
    assert scan.scan_for(substrings=[ERIN], whole=[])["unindexed"] == [table]

    assert table in scan.ensure_search_indexes()
    assert scan.search_indexes()[table] == {scan.index_name(table, columns)}
    assert scan.scan_for(substrings=[ERIN], whole=[])["unindexed"] == []


@pytest.mark.parametrize(
    "table_name",
    [
        "later%s notes",
        pytest.param(
            'later "quoted" notes',
            marks=pytest.mark.skipif(
                connection.vendor != "postgresql",
                reason="Django's SQLite introspection cannot read a table with a double quote "
                "in its name",
            ),
        ),
    ],
)
def test_a_table_whatever_its_name_is_searched_and_indexed(table_name):
    # Names are the table creator's choice: a percent sign once read as a placeholder, and a
    # double quote ended the quoted name, so the scan (and the index upkeep after every
    # migrate) failed, and with it every erasure.
    quoted_table = '"' + table_name.replace('"', '""') + '"'
    quoted_column = '"note ""100%"""'
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {quoted_table} (id integer PRIMARY KEY, {quoted_column} varchar(200))"
        )
        cursor.execute(f"INSERT INTO {quoted_table} VALUES (1, 'left: {ERIN}')")

    column = 'note "100%"'
    assert _hits(scan.scan_for(substrings=[ERIN], whole=[])) == {(table_name, column)}
    if _postgres():
        assert table_name in scan.ensure_search_indexes()
        after = scan.scan_for(substrings=[ERIN], whole=[])
        assert after["unindexed"] == []
        assert _hits(after) == {(table_name, column)}
