"""The blocklist is read from the cache, and every change to it applies from the next request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.siem.models import AddressRestriction

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.71"


def _restriction_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "siem_addressrestriction" in q["sql"]]


def test_a_served_address_is_not_looked_up_again_while_nothing_changes(client):
    client.get("/healthz", REMOTE_ADDR=ADDRESS)

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200

    assert _restriction_queries(queries.captured_queries) == []


def test_a_block_applies_at_once_to_an_address_whose_answer_was_cached(client):
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200

    AddressRestriction.objects.create(
        ip=ADDRESS, kind="block", until=timezone.now() + timedelta(hours=1)
    )

    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403
    assert client.get("/healthz", REMOTE_ADDR="192.0.2.72").status_code == 200


def test_a_block_added_in_the_admin_applies_to_the_next_request(admin_client, client):
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200

    admin_client.post(
        "/admin/siem/addressrestriction/add/",
        {"ip": ADDRESS, "kind": "block", "until_0": "2099-01-01", "until_1": "00:00:00",
         "reason": "seen scanning"},
    )  # fmt: skip

    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403


def test_lifting_a_block_applies_at_once_however_it_is_written(client):
    block = AddressRestriction.objects.create(
        ip=ADDRESS, kind="block", until=timezone.now() + timedelta(hours=1)
    )
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403

    block.delete()
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200

    AddressRestriction.objects.bulk_create(
        [AddressRestriction(ip=ADDRESS, kind="block", until=timezone.now() + timedelta(hours=1))]
    )
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403

    AddressRestriction.objects.filter(ip=ADDRESS).update(kind="rate_limit", requests_per_minute=50)
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200

    AddressRestriction.objects.filter(ip=ADDRESS).update(kind="block")
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403

    AddressRestriction.objects.filter(ip=ADDRESS).delete()
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200


def test_a_cached_block_ends_at_its_own_time_without_any_write(client, monkeypatch):
    AddressRestriction.objects.create(
        ip=ADDRESS, kind="block", until=timezone.now() + timedelta(minutes=10)
    )
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403

    later = timezone.now() + timedelta(minutes=11)
    monkeypatch.setattr("apps.siem.middleware.timezone.now", lambda: later)

    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200


def test_an_answer_read_before_a_block_committed_is_not_used_after_it(client):
    """A request that read the blocklist while a block was being written (not yet committed)
    caches "not blocked"; once the block commits, that answer must not be used."""
    from apps.siem import restrictions

    now = timezone.now()
    assert restrictions.restrictions_for(ADDRESS, now) == []
    AddressRestriction.objects.create(ip=ADDRESS, kind="block", until=now + timedelta(hours=1))
    stale_generation = "generation-of-a-request-in-flight"
    restrictions.cache.set(restrictions.BLOCKLIST_KEY, (stale_generation, {}), timeout=60)

    assert restrictions.restrictions_for(ADDRESS, now) == [("block", None)]


def test_a_long_blocklist_is_asked_per_address_and_still_kept_current(client, monkeypatch):
    monkeypatch.setattr("apps.siem.restrictions.WHOLE_LIST_LIMIT", 2)
    until = timezone.now() + timedelta(hours=1)
    AddressRestriction.objects.bulk_create(
        AddressRestriction(ip=f"198.51.100.{n}", kind="block", until=until) for n in range(3)
    )

    assert client.get("/healthz", REMOTE_ADDR="198.51.100.1").status_code == 403
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 200
    assert _restriction_queries(queries.captured_queries) == []

    AddressRestriction.objects.create(ip=ADDRESS, kind="block", until=until)
    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403


def test_an_address_never_seen_before_costs_no_query_while_the_blocklist_is_short(client):
    AddressRestriction.objects.create(
        ip="198.51.100.9", kind="block", until=timezone.now() + timedelta(hours=1)
    )
    client.get("/healthz", REMOTE_ADDR="198.51.100.10")

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz", REMOTE_ADDR="198.51.100.11").status_code == 200
        assert client.get("/healthz", REMOTE_ADDR="198.51.100.9").status_code == 403

    assert _restriction_queries(queries.captured_queries) == []


def test_without_a_cache_the_blocklist_is_read_from_the_database(client, settings):
    AddressRestriction.objects.create(
        ip=ADDRESS, kind="block", until=timezone.now() + timedelta(hours=1)
    )
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }

    assert client.get("/healthz", REMOTE_ADDR=ADDRESS).status_code == 403
    assert client.get("/healthz", REMOTE_ADDR="192.0.2.72").status_code == 503
