import re
import uuid

from apps.core.client_ip import client_ip
from apps.core.context import RequestContext, bind_request_context, reset_request_context

REQUEST_ID_HEADER = "X-Request-ID"
# A caller may pass its own request id for tracing, but only a short, plain one: anything else
# would let a client write arbitrary text into our logs and events.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
USER_AGENT_MAX_LENGTH = 512


class RequestContextMiddleware:
    """Resolve the client address once, give the request an id, and echo the id back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
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
