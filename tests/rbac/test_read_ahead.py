"""Grant versions read ahead of a decision: the same versions, and nothing left on the line.

``versions.reading_ahead`` sends its request on a connection of the cache's own pool and reads
the answer later, so these tests look at that pool: every connection must come back to it, and
no answer may be left for the next command to mistake for its own.
"""

import socket
import time

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from apps.rbac import versions
from apps.rbac.services import authorize, deciding_soon, revoke_binding
from tests.rbac.conftest import bind
from tests.support import REQUIRE_SERVICES, skip_or_fail

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_pool():
    if not isinstance(caches["default"], RedisCache):
        skip_or_fail("the versions are read ahead from Redis only", REQUIRE_SERVICES)
    return cache._cache.get_client().connection_pool


@pytest.fixture
def no_second_read(monkeypatch):
    """Make any read of the versions other than the one sent ahead fail the test."""

    class AskedAgain:
        def get_many(self, keys):
            raise AssertionError(f"the versions were asked again: {keys}")

        def __getattr__(self, name):
            return getattr(cache, name)

    monkeypatch.setattr(versions, "cache", AskedAgain())


def test_the_versions_read_ahead_are_the_versions_asked_for(redis_pool, customer, request):
    expected = versions.current(customer.pk)
    request.getfixturevalue("no_second_read")

    with versions.reading_ahead(customer.pk):
        assert versions.current(customer.pk) == expected

    assert not redis_pool._in_use_connections


def test_a_revocation_made_before_the_block_is_decided_on(redis_pool, mallory, acme, granter):
    partner_wide = bind("partner-client", user=mallory, scope=f"partner:{acme.pk}")
    with deciding_soon(mallory):
        assert authorize(mallory, "read", "customers").allowed

    revoke_binding(partner_wide, revoked_by=granter, reason="moved to another team")
    with deciding_soon(mallory):
        assert not authorize(mallory, "read", "customers").allowed


def test_a_revocation_during_a_held_up_read_is_decided_on(redis_pool, mallory, acme, granter):
    partner_wide = bind("partner-client", user=mallory, scope=f"partner:{acme.pk}")
    assert authorize(mallory, "read", "customers").allowed

    with deciding_soon(mallory):
        # The database read the block is for is held up (a lock, say), and meanwhile the grant
        # is revoked: counters asked for before the revocation must not decide.
        revoke_binding(partner_wide, revoked_by=granter, reason="moved to another team")
        time.sleep(versions.READ_AHEAD_FRESH_SECONDS * 2)
        assert not authorize(mallory, "read", "customers").allowed


def test_a_wait_for_the_answer_that_is_interrupted_gives_the_connection_back(redis_pool, customer):
    class Interrupted(BaseException):
        pass

    def interrupted(*args, **kwargs):
        raise Interrupted

    with versions.reading_ahead(customer.pk):
        line = versions._reading_ahead.get().connection
        line.read_response = interrupted
        with pytest.raises(Interrupted):
            versions.current(customer.pk)

    del line.read_response  # the instance's own method again, for whoever takes it next
    assert not redis_pool._in_use_connections
    assert not line.is_connected, "closed: its answer was never read"


def test_an_answer_never_collected_is_not_taken_for_the_next_commands(redis_pool, customer):
    with versions.reading_ahead(customer.pk):
        line = versions._reading_ahead.get().connection
        # The decision never comes: the card was unknown, say.

    # Read and dropped, not left for whichever command takes the connection next. (redis-py
    # reconnects a connection it finds with data waiting, but not one whose answer is late.)
    assert line.is_connected
    assert not line.can_read(timeout=0.2)
    cache.set("read-ahead:next", "its own answer")
    assert cache.get("read-ahead:next") == "its own answer"
    assert not redis_pool._in_use_connections


def test_the_answer_for_another_person_is_not_used(redis_pool, customer, mallory):
    expected = versions.current(mallory.pk)

    with versions.reading_ahead(customer.pk):
        assert versions.current(mallory.pk) == expected

    assert not redis_pool._in_use_connections


def test_an_answer_that_cannot_be_read_is_asked_for_again(redis_pool, customer, caplog):
    expected = versions.current(customer.pk)

    with versions.reading_ahead(customer.pk):
        # The line goes down after the request was sent: its answer can never be read.
        versions._reading_ahead.get().connection._sock.shutdown(socket.SHUT_RDWR)
        assert versions.current(customer.pk) == expected

    assert not redis_pool._in_use_connections
    assert "reading the grant versions ahead failed" in caplog.text


def test_a_visitor_or_a_missing_cache_reads_nothing_ahead(customer, settings):
    from django.contrib.auth.models import AnonymousUser

    with deciding_soon(AnonymousUser()):
        assert versions._reading_ahead.get(None) is None

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    expected = versions.current(customer.pk)
    with versions.reading_ahead(customer.pk):
        assert versions._reading_ahead.get(None) is None
        assert versions.current(customer.pk) == expected
