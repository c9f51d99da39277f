"""The same decision point for Django views: a decorator and an IDOR-safe object lookup."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseForbidden

from apps.rbac import registry
from apps.rbac.decisions import authorize, restrict
from apps.rbac.middleware import record_denial

DENIED_TEXT = "You do not have permission to open this page."


def forbidden() -> HttpResponseForbidden:
    # Returned rather than raised, so the request's transaction is not rolled back.
    return HttpResponseForbidden(DENIED_TEXT, content_type="text/plain; charset=utf-8")


def permission_required(resource: str, action: str):
    """Let the view run only for people who may do ``action`` on some ``resource``.

    Anonymous visitors are sent to the login page; signed-in people without the right get 403.
    The view still narrows its objects with ``restrict()`` or ``get_object_for()``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            decision = authorize(request.user, action, resource)
            if not decision.allowed:
                record_denial(request, user=request.user, resource=resource, action=action,
                              reason=decision.reason)  # fmt: skip
                return forbidden()
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def get_object_for(request, queryset, action: str = "read", **lookup):
    """The one object matching ``lookup`` that the person may act on, else 404.

    Someone else's object and a missing one look the same, so changing an id in a URL tells
    the visitor nothing.
    """
    found = restrict(queryset, request.user, action).filter(**lookup).first()
    if found is not None:
        return found
    hidden = queryset.filter(**lookup).first()
    if hidden is not None:
        # Someone reached for an object that exists and is not theirs: worth a record.
        resource = registry.for_model(queryset.model).resource
        record_denial(request, user=request.user, resource=resource, action=action,
                      obj=hidden, reason="object outside the person's grants")  # fmt: skip
    raise Http404
