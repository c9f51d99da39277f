"""Version counters that make every cached decision stale the moment a grant changes.

Decisions are cached under the pair (global version, user version). Both counters live in the
shared cache (Redis in production), and are read on every decision, so a revocation made by one
process is seen by the next decision of every other process, including a Celery task holding a
user object it loaded an hour ago: nothing about grants is stored on the user object itself.

A missing counter starts at a random value rather than at zero, so that an evicted counter can
never fall back to a number under which stale grants are still cached.
"""

import secrets

from django.core.cache import cache
from django.db import transaction

GLOBAL_KEY = "rbac:version:global"
USER_KEY = "rbac:version:user:{}"


def _fresh() -> int:
    return secrets.randbelow(2**48)


def current(user_id) -> str:
    keys = [GLOBAL_KEY, USER_KEY.format(user_id)]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, _fresh(), timeout=None)
            found[key] = cache.get(key)
    return f"{found[keys[0]]}.{found[keys[1]]}"


def _increment(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.add(key, _fresh(), timeout=None)


def _bump(key: str) -> None:
    # Now, so that the rest of this transaction decides on the new state, and again after
    # commit, so that a process which re-read the old rows in between caches nothing lasting.
    _increment(key)
    transaction.on_commit(lambda: _increment(key))


def bump_user(user_id) -> None:
    """One person's grants changed (a binding, an object grant, a group membership)."""
    _bump(USER_KEY.format(user_id))


def bump_all() -> None:
    """Grants of many people changed (a role's permissions, a group's binding or grant)."""
    _bump(GLOBAL_KEY)


def forget_everything() -> None:
    """Make every cached decision stale; tests call it because their databases are reused."""
    from apps.rbac import decisions

    decisions.forget_memory()
    _increment(GLOBAL_KEY)
