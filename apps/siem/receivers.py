"""Hand committed events to detection, without a task message per event.

A Celery message costs more than inserting the event it announces, and most requests write an
event. So a committed event only asks for a detection run, and only the first ask since the
last run started publishes one: an add-if-absent on a cache key. A run clears the ask before it
looks for work, then detects and seals every event not yet in the chain (apps/siem/chain.py),
so an event committed while a run is queued rides along with it, and one committed after the
run looked asks again and gets a run of its own. Should an ask be lost with the cache, or its
message with the broker, the scheduled sealing (every ten seconds) detects what it seals all the
same.

The ask itself is a round trip to the cache (about 100 microseconds here), and the request that
committed the event has no use for its answer. So a commit only tells this process's asker, a
thread of its own, that an ask is due; the asker waits 50 ms for more commits, then asks once for
all it has been told of, so each ask still begins after the commits it covers. An ask that a
process takes with it when it dies is covered by the scheduled sealing, like a lost message.
"""

import atexit
import logging
import os
import threading
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from redis.exceptions import RedisError

from apps.core.publishing import publish
from apps.siem.models import SecurityEvent

logger = logging.getLogger(__name__)

DETECTION_REQUESTED_KEY = "siem:detection-requested"
# How long an ask stands when its run never starts (a stopped worker, a lost message): after
# that, the next event publishes again.
DETECTION_REQUEST_TTL = 30
# How long the asker waits for more commits before it asks (see DetectionAsker).
ASK_GATHERING_SECONDS = 0.05


def request_detection() -> None:
    """Make sure a detection run will start after this moment; call after commit."""
    from apps.siem.tasks import process_pending_events

    try:
        first_ask = cache.add(DETECTION_REQUESTED_KEY, 1, timeout=DETECTION_REQUEST_TTL)
    except (RedisError, OSError):
        # A cache that does not answer costs a message per event, never a missed detection.
        logger.warning("cache unavailable; asking for a detection run without coalescing")
        first_ask = True
    if not first_ask:
        return
    if not publish(process_pending_events):
        # Unsealed events wait for the next run: the scheduled sealing detects them once the
        # broker is back. The ask is withdrawn so that the next event tries again.
        logger.warning("broker unavailable; detection waits for the scheduled sealing")
        clear_detection_request()


def clear_detection_request() -> None:
    try:
        cache.delete(DETECTION_REQUESTED_KEY)
    except (RedisError, OSError):
        # The run must go on: it is the one that detects. An ask left standing only lets the
        # next events ride on the scheduled sealing until it expires.
        logger.warning("cache unavailable; a detection run starts without clearing its ask")


class DetectionAsker:
    """Runs ``request_detection`` in a background thread whenever a commit says one is due."""

    def __init__(self):
        self._start_afresh()

    def _start_afresh(self):
        # Also what a forked child does: threads do not survive a fork, and a lock held by one
        # of the parent's threads at that moment would stay held for ever in the child.
        self._changed = threading.Condition()
        self._due = 0  # commits told of so far
        self._covered = 0  # commits an ask has begun after
        self._thread = None

    def ask_soon(self) -> None:
        """Called after a commit: an ask will begin after this moment, without waiting for it."""
        with self._changed:
            self._due += 1
            if self._thread is None:
                thread = threading.Thread(
                    target=self._ask_while_due, name="siem-detection-asker", daemon=True
                )
                try:
                    thread.start()
                except RuntimeError:
                    # The interpreter is shutting down and starts no threads: ask right away.
                    self._due -= 1
                    thread = None
                self._thread = thread
            if self._thread is not None:
                self._changed.notify()
                return
        request_detection()

    def wait_until_asked(self, timeout: float = 5.0) -> bool:
        """Wait until every commit told of so far is covered by an ask (tests, process exit)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._covered == self._due, timeout)

    def _ask_while_due(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._covered < self._due)
            # Commits that arrive meanwhile share this ask: a busy process asks a few times a
            # second instead of once per event, at the price of this much detection latency.
            time.sleep(ASK_GATHERING_SECONDS)
            with self._changed:
                covering = self._due
            try:
                request_detection()
            except Exception:
                # The thread must outlive any failure; the scheduled sealing still detects.
                logger.exception("asking for a detection run failed")
            with self._changed:
                self._covered = covering
                self._changed.notify_all()


asker = DetectionAsker()
os.register_at_fork(after_in_child=asker._start_afresh)
# A short-lived process (a management command) asks before it exits, not ten seconds later.
atexit.register(asker.wait_until_asked, 2.0)


@receiver(post_save, sender=SecurityEvent, dispatch_uid="siem-detect-on-commit")
def detect_after_commit(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(asker.ask_soon)
