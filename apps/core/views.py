import logging

from django.core.cache import cache
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

logger = logging.getLogger(__name__)

HEALTH_CACHE_KEY = "core:healthz"
BROKER_TIMEOUT_SECONDS = 2


def _database_is_up() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _cache_is_up() -> bool:
    cache.set(HEALTH_CACHE_KEY, "ok", timeout=10)
    return cache.get(HEALTH_CACHE_KEY) == "ok"


def _broker_is_up() -> bool:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    return True


CHECKS = {"database": _database_is_up, "cache": _cache_is_up, "broker": _broker_is_up}


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request):
    """Report whether each backing service answers; 503 when any does not.

    The body names services and states only: the reason for a failure goes to the log, where
    operators read it, and not to whoever probes the endpoint.
    """
    states = {}
    for name, check in CHECKS.items():
        try:
            states[name] = "ok" if check() else "down"
        except Exception:  # any failure of a backing service, whatever its kind, means "down"
            logger.warning("health check %s failed", name, exc_info=True)
            states[name] = "down"

    healthy = all(state == "ok" for state in states.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": states},
        status=200 if healthy else 503,
    )
