"""Request rates per client address and per authenticated client, answered with 429.

DRF adds ``Retry-After`` to the 429 it raises. The address is the one apps.core resolved
through the trusted-proxy setting, never a header the client wrote; the client is the OAuth2
application or the user behind a JWT.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

ONE_MINUTE = 60


class _PerMinuteThrottle(SimpleRateThrottle):
    setting_name = ""

    def get_rate(self):
        # Read on every request (not at import) so that deployments and tests can change it.
        return f"{getattr(settings, self.setting_name)}/min"

    def parse_rate(self, rate):
        return int(rate.split("/")[0]), ONE_MINUTE


class AddressRateThrottle(_PerMinuteThrottle):
    scope = "address"
    setting_name = "PORTAL_API_RATE_PER_ADDRESS"

    def get_cache_key(self, request, view):
        address = getattr(request._request, "client_ip", None) or "unknown"
        return f"api:throttle:address:{address}"


class ClientRateThrottle(_PerMinuteThrottle):
    scope = "client"
    setting_name = "PORTAL_API_RATE_PER_CLIENT"

    def get_cache_key(self, request, view):
        client = client_reference(request)
        return f"api:throttle:client:{client}" if client else None


def client_reference(request) -> str | None:
    """ "app:<client id>" for a machine client, "user:<id>" for a user client, else None."""
    application = getattr(request.auth, "application", None)
    if application is not None:
        return f"app:{application.client_id}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None
