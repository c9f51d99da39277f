"""Which restrictions hold for a client address, answered from the shared cache.

Every request asks, blocked or not, so asking the database each time cost a query on every page
and API call. The answer for an address is kept in the cache (Redis in production) together with
the generation of the blocklist it was read under, and with each restriction's end time, so an
expired block stops applying at its own time without anyone clearing the cache.

Any write to AddressRestriction (a save or delete, and the queryset's update, delete and
bulk_create) replaces the generation at once and again when the writing transaction commits. An
answer cached under any other generation is read again from the database, so a new block applies
from the next request on. The second replacement covers a request that read the database while
the write was still uncommitted: what it cached carries a generation that is already gone.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "siem:restrictions:generation"
ADDRESS_KEY = "siem:restrictions:ip:{ip}"
# Only bounds how long an unused answer takes space: a stale one is never read (see above).
ADDRESS_CACHE_SECONDS = 300


def restrictions_for(ip: str, now) -> list[tuple[str, int | None]]:
    """(kind, requests per minute) of every restriction of `ip` still in force at `now`."""
    from apps.siem.models import AddressRestriction

    address_key = ADDRESS_KEY.format(ip=ip)
    cached = cache.get_many([GENERATION_KEY, address_key])
    generation = cached.get(GENERATION_KEY) or _current_generation()
    entry = cached.get(address_key)

    if entry is None or entry[0] != generation:
        rows = AddressRestriction.objects.filter(ip=ip, until__gt=now).values_list(
            "kind", "requests_per_minute", "until"
        )
        entry = (generation, [(kind, limit, until.timestamp()) for kind, limit, until in rows])
        cache.set(address_key, entry, timeout=ADDRESS_CACHE_SECONDS)

    moment = now.timestamp()
    return [(kind, limit) for kind, limit, until in entry[1] if until > moment]


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
