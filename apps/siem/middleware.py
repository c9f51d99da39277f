"""Refuse requests from addresses that a playbook or an analyst blocked or rate-limited."""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from apps.core.client_ip import client_ip
from apps.siem.models import AddressRestriction
from apps.siem.restrictions import restrictions_for

RATE_CACHE_KEY = "siem:rate:{ip}:{minute}"
API_PREFIX = "/api/"


class AddressRestrictionMiddleware:
    """Runs right after the request context, before sessions, so a blocked client costs little.

    Whether the address is restricted comes from the shared cache, read again from the database
    whenever the blocklist changed (apps/siem/restrictions.py); a rate limit then counts requests
    per address and minute in the same cache.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip = getattr(request, "client_ip", None) or client_ip(request)
        now = timezone.now()
        restrictions = restrictions_for(ip, now)
        if any(kind == AddressRestriction.Kind.BLOCK for kind, _ in restrictions):
            return _refuse(request, 403, "This address is blocked.")

        limits = [limit for kind, limit in restrictions if limit]
        if limits:
            key = RATE_CACHE_KEY.format(ip=ip, minute=now.strftime("%Y%m%d%H%M"))
            cache.add(key, 0, timeout=120)
            if cache.incr(key) > min(limits):
                return _refuse(request, 429, "Too many requests from this address.")

        response = self.get_response(request)
        if settings.SIEM_RECORD_API_REQUESTS and request.path.startswith(API_PREFIX):
            from apps.siem.events import emit

            emit(
                "api.request", ip=ip, outcome="failure" if response.status_code >= 400 else None,
                details={"method": request.method, "status_code": response.status_code},
            )  # fmt: skip
        return response


def _refuse(request, status: int, message: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain")
