"""Hand committed events to detection, without a task message per event.

A Celery message costs more than inserting the event it announces, and most requests write an
event. So a committed event only asks for a detection run, and only the first ask since the
last run started publishes one: an add-if-absent on a cache key. A run clears the ask before it
looks for work, then detects and seals every event not yet in the chain (apps/siem/chain.py),
so an event committed while a run is queued rides along with it, and one committed after the
run looked asks again and gets a run of its own. Should an ask be lost with the cache, or its
message with the broker, the scheduled sealing (every ten seconds) detects what it seals all the
same.
"""

import logging

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


@receiver(post_save, sender=SecurityEvent, dispatch_uid="siem-detect-on-commit")
def detect_after_commit(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(request_detection)
