"""Rows written and read by statements built once behave exactly as the ORM's do."""

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext, override_settings

from apps.accounts.models import User
from apps.core.statements import _needs_converting, get_by
from apps.pci.access import Caller
from apps.pci.models import CardToken
from apps.pci.services import tokenize_card
from apps.siem.events import _insert_event_sql, emit
from apps.siem.models import SecurityEvent
from tests.support import REQUIRE_SERVICES, skip_or_fail

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved_signals():
    received = []

    def record(sender, instance, created, **kwargs):
        received.append((instance, created))

    post_save.connect(record, sender=SecurityEvent, dispatch_uid="test-inserts")
    yield received
    post_save.disconnect(dispatch_uid="test-inserts", sender=SecurityEvent)


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        skip_or_fail("the built statement is used on PostgreSQL only", REQUIRE_SERVICES)


def test_an_emitted_event_is_stored_and_left_as_a_save_leaves_it(saved_signals):
    event = emit(
        "data.access", actor="user:7", subject="pci.card:tok_abc", ip="203.0.113.9",
        details={"purpose": "refund", "count": 2},
    )  # fmt: skip

    stored = SecurityEvent.objects.get(pk=event.pk)
    assert (stored.event_type, stored.actor, stored.subject) == (
        "data.access", "user:7", "pci.card:tok_abc"
    )  # fmt: skip
    assert stored.ip == "203.0.113.9"
    assert stored.details == {"purpose": "refund", "count": 2}
    assert stored.occurred_at == event.occurred_at
    assert event._state.adding is False
    assert saved_signals == [(event, True)]


def test_the_insert_is_one_statement_that_query_captures_see(postgresql_only):
    with CaptureQueriesContext(connection) as captured:
        emit("auth.logout", actor="user:7")

    assert [query["sql"].split(" (")[0] for query in captured.captured_queries] == [
        'INSERT INTO "siem_securityevent"'
    ]


def test_the_statement_is_prepared_once_per_connection(postgresql_only):
    for _ in range(3):
        emit("auth.logout", actor="user:7")

    with connection.cursor() as cursor:
        # The driver sends the statement with $1, $2... where it has %s.
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            ['INSERT INTO "siem_securityevent" %'],
        )
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 1
    assert prepared[0].split(" VALUES")[0] == _insert_event_sql().split(" VALUES")[0]


@pytest.mark.django_db(transaction=True)
@override_settings(DATABASE_PREPARED_STATEMENTS=False)
def test_without_prepared_statements_the_event_is_still_stored(postgresql_only):
    connection.close()  # a new connection, on which nothing is prepared yet

    event = emit("auth.logout", actor="user:8")

    assert SecurityEvent.objects.filter(pk=event.pk, actor="user:8").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0


def test_a_card_read_by_its_token_is_the_card_the_orm_reads():
    owner = User.objects.create_user("reader@example.com", None)
    card, _ = tokenize_card(
        pan="4111111111111111", expiry_month=12, expiry_year=2031, owner=owner,
        actor=Caller.for_user(owner),
    )  # fmt: skip

    read = get_by(CardToken, "token", card.token)

    expected = CardToken.objects.get(token=card.token)
    for field in CardToken._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read._state.adding is False


def test_a_value_no_row_has_reads_as_none():
    assert get_by(CardToken, "token", "tok_nobodyhasthisone") is None


def test_only_a_unique_column_can_be_read_by():
    with pytest.raises(ValueError, match="not unique"):
        get_by(CardToken, "brand", "Visa")


def test_a_model_whose_columns_need_converting_is_read_by_the_orm(postgresql_only):
    # The event's details are JSON, which the ORM converts on the way out.
    event = emit("auth.logout", actor="user:9", details={"why": "converted"})
    SecurityEvent.objects.filter(pk=event.pk).update(chain_seq=424242, chain_hash="0" * 64)

    assert _needs_converting(SecurityEvent, connection.vendor)
    assert get_by(SecurityEvent, "chain_seq", 424242).details == {"why": "converted"}
    assert not _needs_converting(CardToken, connection.vendor)
