"""The event store is append-only on PostgreSQL, and the hash chain shows any tampering."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction

from apps.siem import chain
from apps.siem.events import emit
from apps.siem.models import EventPurge, Incident, SecurityEvent
from apps.siem.services import purge_events
from tests.siem.helpers import as_database_superuser, emit_many, is_postgres, minutes_ago, raw_sql
from tests.support import REQUIRE_SERVICES, skip_or_fail

pytestmark = pytest.mark.django_db

TABLE = "siem_securityevent"


@pytest.fixture
def five_sealed_events():
    events = emit_many(5, ip="198.51.100.7", details={"identifier": "casey@example.com"})
    assert chain.seal_pending() == 5
    return events


def require_postgres():
    if not is_postgres():
        skip_or_fail("append-only triggers exist only on PostgreSQL", REQUIRE_SERVICES)


def test_sealed_events_verify_as_an_unbroken_chain(five_sealed_events):
    result = chain.verify_chain()

    assert result.ok, str(result)
    assert result.checked == 5
    seqs = [e.chain_seq for e in SecurityEvent.objects.order_by("chain_seq")]
    assert seqs == [1, 2, 3, 4, 5]


def test_each_event_links_to_its_predecessor(five_sealed_events):
    first, second = SecurityEvent.objects.order_by("chain_seq")[:2]

    assert first.prev_hash == ""
    assert second.prev_hash == first.chain_hash
    assert second.chain_hash == chain.link_digest(first.chain_hash, 2, second.content_hash)


def test_secrets_in_details_are_scrubbed_before_the_event_is_stored():
    event = emit(
        "auth.login.failure", details={"password": "hunter2", "note": "4111 1111 1111 1111"}
    )

    event.refresh_from_db()
    assert event.details == {"password": "[redacted]", "note": "[redacted]"}


def test_an_event_carrying_a_nul_from_client_input_is_stored_with_it_replaced():
    # PostgreSQL's text and jsonb cannot hold U+0000, and a typed identifier, a URL's object
    # id or a user agent can carry one: the event must be stored, not fail its request.
    event = emit(
        "auth.unauthorized.access",
        actor="client:a\u0000b",
        user_agent="curl\u0000/8",
        details={"object": "\u0000", "typed\u0000": ["x\u0000y"]},
    )

    event.refresh_from_db()
    assert event.details == {"object": "\ufffd", "typed\ufffd": ["x\ufffdy"]}
    assert (event.actor, event.user_agent) == ("client:a\ufffdb", "curl\ufffd/8")


def test_an_edited_event_is_named_by_the_verification(five_sealed_events):
    third = five_sealed_events[2]
    with as_database_superuser():
        raw_sql(f"UPDATE {TABLE} SET actor = %s WHERE id = %s", ["user:1", third.pk])

    result = chain.verify_chain()

    assert not result.ok
    assert result.bad_event_id == third.pk
    assert "edited" in result.reason


def test_a_deleted_event_is_seen_at_the_event_after_the_gap(five_sealed_events):
    third, fourth = five_sealed_events[2], five_sealed_events[3]
    with as_database_superuser():
        raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [third.pk])

    result = chain.verify_chain()

    assert not result.ok
    assert result.bad_event_id == fourth.pk
    assert "removed" in result.reason


def test_two_swapped_events_are_named_at_the_first_of_them(five_sealed_events):
    second, fourth = five_sealed_events[1], five_sealed_events[3]
    with as_database_superuser():
        # Swap their places in the chain, with their hashes, as a careful forger would.
        raw_sql(f"UPDATE {TABLE} SET chain_seq = -chain_seq WHERE id IN (%s, %s)",
                [second.pk, fourth.pk])  # fmt: skip
        raw_sql(f"UPDATE {TABLE} SET chain_seq = 4, prev_hash = %s, chain_hash = %s WHERE id = %s",
                [SecurityEvent.objects.get(pk=fourth.pk).prev_hash,
                 SecurityEvent.objects.get(pk=fourth.pk).chain_hash, second.pk])  # fmt: skip
        raw_sql(f"UPDATE {TABLE} SET chain_seq = 2 WHERE id = %s", [fourth.pk])

    result = chain.verify_chain()

    assert not result.ok
    assert result.bad_seq == 2
    assert result.bad_event_id == fourth.pk


def test_removing_the_newest_events_is_seen_against_the_chain_head(five_sealed_events):
    with as_database_superuser():
        raw_sql(f"DELETE FROM {TABLE} WHERE chain_seq >= 4")

    result = chain.verify_chain()

    assert not result.ok
    assert "newest" in result.reason


def test_postgres_refuses_to_update_an_event(five_sealed_events):
    require_postgres()
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        SecurityEvent.objects.filter(pk=five_sealed_events[0].pk).update(actor="user:999")


def test_postgres_refuses_to_update_an_unsealed_event():
    require_postgres()
    event = emit("auth.login.failure")
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).update(details={"forged": True})


def test_postgres_refuses_to_reseal_a_sealed_event(five_sealed_events):
    require_postgres()
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        SecurityEvent.objects.filter(pk=five_sealed_events[0].pk).update(chain_hash="0" * 64)


def test_postgres_refuses_to_delete_an_event(five_sealed_events):
    require_postgres()
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [five_sealed_events[0].pk])


def test_a_retention_purge_is_recorded_and_the_rest_still_verifies(compliance_officer):
    old = [emit("auth.login.failure") for _ in range(3)]
    with as_database_superuser():
        raw_sql(f"UPDATE {TABLE} SET occurred_at = %s WHERE id IN (%s, %s, %s)",
                [minutes_ago(60 * 24 * 400), *[e.pk for e in old]])  # fmt: skip
    emit_many(2)
    chain.seal_pending()

    record = purge_events(older_than=minutes_ago(60 * 24 * 365), actor=compliance_officer)
    chain.seal_pending()

    assert (record.first_seq, record.last_seq, record.removed) == (1, 3, 3)
    assert record.actor == f"user:{compliance_officer.pk}"
    assert not SecurityEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert SecurityEvent.objects.filter(event_type="siem.events.purged").exists()
    assert chain.verify_chain().ok


def test_the_purge_record_itself_cannot_be_rewritten(compliance_officer):
    require_postgres()
    emit("auth.login.failure")
    chain.seal_pending()
    purge_events(older_than=minutes_ago(-1), actor=compliance_officer)

    with pytest.raises(DatabaseError), transaction.atomic():
        EventPurge.objects.update(removed=0)


def test_the_verify_command_raises_an_incident_naming_the_first_bad_event(five_sealed_events):
    second = five_sealed_events[1]
    with as_database_superuser():
        raw_sql(f"UPDATE {TABLE} SET ip = %s WHERE id = %s", ["192.0.2.1", second.pk])

    with pytest.raises(CommandError, match=f"event #{second.pk}"):
        call_command("verify_event_chain")
    with pytest.raises(CommandError):
        call_command("verify_event_chain")

    incident = Incident.objects.get()
    assert f"event #{second.pk}" in incident.title
    assert incident.severity == "critical"
    assert SecurityEvent.objects.filter(event_type="siem.chain.broken").count() == 1


def test_the_verify_command_is_quiet_on_an_intact_chain(five_sealed_events, capsys):
    call_command("verify_event_chain")

    assert "chain intact" in capsys.readouterr().out
    assert not Incident.objects.exists()
