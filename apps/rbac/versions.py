"""Version counters that make every cached decision stale the moment a grant changes.

Decisions are cached under the pair (global version, user version). Both counters live in the
shared cache (Redis in production), and are read on every decision, so a revocation made by one
process is seen by the next decision of every other process, including a Celery task holding a
user object it loaded an hour ago: nothing about grants is stored on the user object itself.

A missing counter starts at a random value rather than at zero, so that an evicted counter can
never fall back to a number under which stale grants are still cached.

The read is one round trip to Redis, about a tenth of a millisecond here. A caller that must go to
the database before it can ask for its decision sends the read first (``reading_ahead``), so that
the two round trips overlap.
"""

import contextlib
import contextvars
import logging
import secrets
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

GLOBAL_KEY = "rbac:version:global"
USER_KEY = "rbac:version:user:{}"
# How old a read-ahead answer may be when the decision comes (see reading_ahead). The database
# read it overlaps takes a fraction of a millisecond; one held up longer (a lock, a stalled
# server) must not stretch the moment at which the decision's grants were taken.
READ_AHEAD_FRESH_SECONDS = 0.01


def _fresh() -> int:
    return secrets.randbelow(2**48)


def _keys(user_id) -> list[str]:
    return [GLOBAL_KEY, USER_KEY.format(user_id)]


def current(user_id) -> str:
    keys = _keys(user_id)
    found = _collect_read_ahead(user_id)
    if found is None:
        found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, _fresh(), timeout=None)
            found[key] = cache.get(key)
    return f"{found[keys[0]]}.{found[keys[1]]}"


class _ReadAhead:
    """Both counters of one person, asked of Redis and not yet answered.

    The request goes out on a connection taken from the cache's own pool and the answer is
    read from it later; until then the connection is this object's alone, and it goes back to
    the pool, answered or not, when the read-ahead ends.
    """

    def __init__(self, user_id):
        backend = caches["default"]
        self.user_id = user_id
        self.keys = [backend.make_and_validate_key(key) for key in _keys(user_id)]
        self.pool = backend._cache.get_client().connection_pool
        self.connection = self.pool.get_connection()
        try:
            self.connection.send_command("MGET", *self.keys)
        except BaseException:
            self._give_back(broken=True)
            raise
        self.sent_at = time.monotonic()

    def collect(self) -> dict | None:
        """The counters found, by key as ``cache.get_many`` gives them; None when unanswered
        or answered too long ago."""
        if self.connection is None:
            return None
        try:
            values = self.connection.read_response()
        except (RedisError, OSError):
            logger.warning("reading the grant versions ahead failed; asking again")
            self._give_back(broken=True)
            return None
        except BaseException:
            # Interrupted while waiting (a signal, a green thread's timeout): the connection
            # still goes back, closed, or the pool would count it in use for ever.
            self._give_back(broken=True)
            raise
        self._give_back(broken=False)
        if time.monotonic() - self.sent_at > READ_AHEAD_FRESH_SECONDS:
            # Counters read this long before the decision could miss a revocation made
            # meanwhile: they are asked for again, now.
            return None
        # The values are written by incr() and add() of integers, which Django's Redis cache
        # stores as plain numbers; anything else is left to the cache's own reading.
        found = zip(_keys(self.user_id), values, strict=True)
        try:
            return {key: int(value) for key, value in found if value is not None}
        except ValueError:
            return None

    def discard(self) -> None:
        # An answer left unread would be taken for the answer to the connection's next command.
        self.collect()

    def _give_back(self, *, broken: bool) -> None:
        if broken:
            self.connection.disconnect()
        self.pool.release(self.connection)
        self.connection = None


_reading_ahead: contextvars.ContextVar = contextvars.ContextVar("rbac_versions_read_ahead")


@contextlib.contextmanager
def reading_ahead(user_id):
    """Ask Redis for ``user_id``'s counters now; ``current(user_id)`` in the block collects them.

    For a caller whose next step is a round trip of its own to the database (the card vault
    reads the card it is about to decide on): Redis answers while PostgreSQL works, and the two
    waits overlap instead of following each other. A grant changed between this moment and the
    decision is decided on as it stood here, a database round trip earlier, exactly as if the
    change had come just after the decision; an answer older than READ_AHEAD_FRESH_SECONDS at
    the decision is not used, so a read held up by a lock cannot widen that moment. Outside
    Redis (the embedded default's file cache) and when the request cannot be sent, the block
    changes nothing.
    """
    ahead = None
    if user_id is not None and isinstance(caches["default"], RedisCache):
        try:
            ahead = _ReadAhead(user_id)
        except (RedisError, OSError):
            logger.warning("reading the grant versions ahead failed; they are asked when needed")
    token = _reading_ahead.set(ahead)
    try:
        yield
    finally:
        _reading_ahead.reset(token)
        if ahead is not None:
            ahead.discard()


def _collect_read_ahead(user_id) -> dict | None:
    ahead = _reading_ahead.get(None)
    if ahead is None or ahead.user_id != user_id:
        return None
    # Collected once: a second decision in the block reads afresh.
    _reading_ahead.set(None)
    return ahead.collect()


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
