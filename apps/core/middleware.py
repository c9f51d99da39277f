import re
import uuid

from apps.core.client_ip import client_ip
from apps.core.context import RequestContext, bind_request_context, reset_request_context

REQUEST_ID_HEADER = "X-Request-ID"
# A caller may pass its own request id for tracing, but only a short, plain one: anything else
# would let a client write arbitrary text into our logs and events.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
USER_AGENT_MAX_LENGTH = 512
# PostgreSQL's text columns cannot hold U+0000, and the user agent is stored as sent (the
# sessions page, security events): a NUL in it failed the request of anyone signed in.
_NUL, _NUL_STANDS_IN = "\x00", "\ufffd"


class RequestContextMiddleware:
    """Resolve the client address once, give the request an id, and echo the id back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _NUL in request.META.get("HTTP_USER_AGENT", ""):
            # Cleaned where the request enters, before request.headers is first built, so every
            # reader of the header gets it storable.
            request.META["HTTP_USER_AGENT"] = request.META["HTTP_USER_AGENT"].replace(
                _NUL, _NUL_STANDS_IN
            )

        offered_id = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered_id if _ACCEPTABLE_REQUEST_ID.match(offered_id) else uuid.uuid4().hex
        request.request_id = request_id
        request.client_ip = client_ip(request)

        user_agent = request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH]
        token = bind_request_context(
            RequestContext(request_id=request_id, ip=request.client_ip, user_agent=user_agent)
        )
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)

        response[REQUEST_ID_HEADER] = request_id
        return response
