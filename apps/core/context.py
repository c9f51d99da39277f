"""Who is asking, from where, in which request: kept for the length of one request.

Security events and log lines read this instead of having the request passed down through
every service call. Celery tasks run outside any request and see the empty context.
"""

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None


_NO_REQUEST = RequestContext()
_current = contextvars.ContextVar("portal_request_context", default=None)


def current_request_context() -> RequestContext:
    return _current.get() or _NO_REQUEST


def bind_request_context(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def reset_request_context(token: contextvars.Token) -> None:
    _current.reset(token)
