"""Which restrictions hold for a client address, answered from the shared cache.

Every request asks, blocked or not, so asking the database each time cost a query on every page
and API call. The blocklist is kept in the cache (Redis in production): whole while it is short,
otherwise per address. Each entry carries the generation of the blocklist it was read under, and
each restriction its end time, so an expired block stops applying at its own time without anyone
clearing the cache.

Any write to AddressRestriction (a save or delete, and the queryset's update, delete and
bulk_create) replaces the generation at once and again when the writing transaction commits. An
answer cached under any other generation is read again from the database, so a new block applies
from the next request on. The second replacement covers a request that read the database while
the write was still uncommitted: what it cached carries a generation that is already gone.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

GENERATION_KEY = "siem:restrictions:generation"
BLOCKLIST_KEY = "siem:restrictions:all"
# The whole blocklist is kept as one cache entry while it is this short (the usual case), so that
# an address seen for the first time costs no query either; a longer one is asked per address.
WHOLE_LIST_LIMIT = 500
ADDRESS_KEY = "siem:restrictions:ip:{ip}"
# Only bounds how long an unused answer takes space: a stale one is never read (see above).
CACHE_SECONDS = 300


def restrictions_for(ip: str, now) -> list[tuple[str, int | None]]:
    """(kind, requests per minute) of every restriction of `ip` still in force at `now`."""
    try:
        return _cached_restrictions_for(ip, now)
    except (RedisError, OSError):
        # A cache that does not answer must not take every page down (nor hide it from the
        # health check): the database still knows the blocklist.
        logger.warning("blocklist cache unavailable; reading the blocklist from the database")
        return _stored_restrictions_for(ip, now)


def _stored_restrictions_for(ip: str, now) -> list[tuple[str, int | None]]:
    from apps.siem.models import AddressRestriction

    return list(
        AddressRestriction.objects.filter(ip=ip, until__gt=now).values_list(
            "kind", "requests_per_minute"
        )
    )


def _cached_restrictions_for(ip: str, now) -> list[tuple[str, int | None]]:
    from apps.siem.models import AddressRestriction

    address_key = ADDRESS_KEY.format(ip=ip)
    cached = cache.get_many([GENERATION_KEY, BLOCKLIST_KEY, address_key])
    generation = cached.get(GENERATION_KEY) or _current_generation()

    blocklist = cached.get(BLOCKLIST_KEY)
    if blocklist is None or blocklist[0] != generation:
        rows = AddressRestriction.objects.filter(until__gt=now).values_list(
            "ip", "kind", "requests_per_minute", "until"
        )[: WHOLE_LIST_LIMIT + 1]
        by_address = {}
        for address, kind, limit, until in rows:
            by_address.setdefault(address, []).append((kind, limit, until.timestamp()))
        whole = by_address if len(rows) <= WHOLE_LIST_LIMIT else None
        blocklist = (generation, whole)
        cache.set(BLOCKLIST_KEY, blocklist, timeout=CACHE_SECONDS)

    if blocklist[1] is not None:
        found = blocklist[1].get(ip, [])
    else:
        entry = cached.get(address_key)
        if entry is None or entry[0] != generation:
            rows = AddressRestriction.objects.filter(ip=ip, until__gt=now).values_list(
                "kind", "requests_per_minute", "until"
            )
            entry = (generation, [(kind, limit, until.timestamp()) for kind, limit, until in rows])
            cache.set(address_key, entry, timeout=CACHE_SECONDS)
        found = entry[1]

    moment = now.timestamp()
    return [(kind, limit) for kind, limit, until in found if until > moment]


def forget_restrictions(using: str = "default") -> None:
    """Make every cached answer stale, now and once the current transaction commits."""
    _new_generation()
    transaction.on_commit(_new_generation, using=using)


def _current_generation() -> str:
    # A missing generation (never set, or evicted) gets a fresh random one: answers cached
    # before the eviction then carry a generation nobody will hold again.
    cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(GENERATION_KEY)


def _new_generation() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
