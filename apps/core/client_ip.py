"""The address of the client that sent a request, as far as we can trust it.

X-Forwarded-For is a list that every hop appends to, so only its right-hand end was written by
proxies we run; everything to the left of those entries was written by whoever sent the
request. With PORTAL_TRUSTED_PROXY_COUNT = N, the client is the entry N places from the right.
With 0 (the default) the header is ignored and the TCP peer address is the client.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _clean(value: str) -> str | None:
    candidate = value.strip()
    if candidate.startswith("[") and "]" in candidate:
        candidate = candidate[1 : candidate.index("]")]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """Return the client address, never a value the client could choose by itself."""
    peer = _clean(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104 - not a bind
    trusted_hops = settings.PORTAL_TRUSTED_PROXY_COUNT
    if not trusted_hops:
        return peer

    forwarded = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop]
    if len(forwarded) < trusted_hops:
        # The request did not pass through every proxy we own, so nothing in the header was
        # vouched for: the peer is the best address we have.
        return peer
    return _clean(forwarded[-trusted_hops]) or peer
