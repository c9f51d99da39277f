"""Writes access-denial events once the request's transaction is over.

A denied request often ends in an exception (Django's PermissionDenied, DRF's handler), and
with ATOMIC_REQUESTS that rolls back everything written during the view, the denial event too.
The decision point therefore parks denials on the request, and this middleware, which runs
outside the view's transaction, records them in their own.
"""

from django.db import transaction

from apps.rbac import events
from apps.siem.events import emit

PENDING_ATTRIBUTE = "_rbac_pending_denials"


def record_denial(request, *, user, resource, action, obj=None, reason="") -> None:
    """Record one ``auth.unauthorized.access``, now or when the request ends."""
    details = {
        "resource": resource,
        "action": action,
        "object": str(obj.pk) if obj is not None and obj.pk is not None else None,
        "path": request.path if request is not None else None,
        "method": request.method if request is not None else None,
        "reason": reason,
    }
    actor = user if user is not None and user.is_authenticated else None
    django_request = getattr(request, "_request", request)
    pending = getattr(django_request, PENDING_ATTRIBUTE, None)
    if pending is None:
        emit(events.UNAUTHORIZED, actor=actor, details=details)
    else:
        pending.append((actor, details))


# What an admin view does, as an access-control action; a POST to a page changes something.
ADMIN_VIEW_ACTIONS = {
    "changelist_view": "read",
    "add_view": "create",
    "change_view": "read",
    "delete_view": "delete",
    "history_view": "read",
}


def record_admin_refusal(request, view, *, object_id=None) -> None:
    """Record the refusal of an admin page: resource, action and the id from the URL."""
    model_admin = getattr(view, "__self__", None)
    model = getattr(model_admin, "model", None)
    resource = getattr(model_admin, "rbac_resource", None)
    if resource is None:
        resource = model._meta.label_lower if model is not None else "admin"
    action = ADMIN_VIEW_ACTIONS.get(getattr(view, "__name__", ""), "read")
    if action == "read" and request.method == "POST":
        action = "write"
    record_denial(request, user=request.user, resource=resource, action=action,
                  obj=_UrlObject(object_id), reason="refused by the admin")  # fmt: skip


class _UrlObject:
    """Only the id written in the URL: recording a refusal never loads the object."""

    def __init__(self, pk):
        self.pk = pk


class DenialAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        setattr(request, PENDING_ATTRIBUTE, [])
        response = self.get_response(request)
        pending = getattr(request, PENDING_ATTRIBUTE)
        if pending:
            with transaction.atomic():
                for actor, details in pending:
                    emit(events.UNAUTHORIZED, actor=actor, details=details)
        return response
