"""REST framework glue: a permission class and a queryset mixin over the one decision point.

A view declares its resource and, when the HTTP method does not say it, its actions::

    class CustomerViewSet(RbacQuerysetMixin, viewsets.ModelViewSet):
        permission_classes = [RbacPermission]
        rbac_resource = "customers"
        rbac_actions = {"export": "export"}  # viewset action -> rbac action, optional

Lists and detail lookups go through ``restrict()``, so an id that is not the caller's answers
404 exactly like an id that does not exist. An object the caller may read but not change
answers 403. Every denial is recorded as ``auth.unauthorized.access``; the response body says
only that the request is not allowed.
"""

from rest_framework.permissions import BasePermission

from apps.rbac.decisions import authorize, restrict
from apps.rbac.middleware import record_denial

DENIED_MESSAGE = "You do not have permission to perform this action."
METHOD_ACTIONS = {
    "GET": "read",
    "HEAD": "read",
    "OPTIONS": "read",
    "POST": "create",
    "PUT": "write",
    "PATCH": "write",
    "DELETE": "delete",
}


def rbac_action(request, view) -> str:
    declared = getattr(view, "rbac_actions", {})
    viewset_action = getattr(view, "action", None)
    if viewset_action in declared:
        return declared[viewset_action]
    if request.method in declared:
        return declared[request.method]
    return METHOD_ACTIONS.get(request.method, request.method.lower())


def token_allows(request, view, action: str) -> bool:
    """An OAuth2 token's scopes can only narrow what the service user's roles allow."""
    scope = getattr(request.auth, "scope", None)
    if not isinstance(scope, str):
        return True  # a session or a user token: the person's roles are the whole answer
    resource = view.rbac_resource
    needed = getattr(view, "rbac_token_scopes", {}).get(action)
    if needed is None:
        needed = f"{resource}:read" if action == "read" else f"{resource}:write"
    return needed in scope.split()


class RbacPermission(BasePermission):
    message = DENIED_MESSAGE

    def has_permission(self, request, view):
        action = rbac_action(request, view)
        resource = view.rbac_resource
        if not request.user or not request.user.is_authenticated:
            return False  # REST framework answers 401 or 403 for a missing identity
        if not token_allows(request, view, action):
            record_denial(request, user=request.user, resource=resource, action=action,
                          reason="token scope does not cover this")  # fmt: skip
            return False
        decision = authorize(request.user, action, resource)
        if not decision.allowed:
            record_denial(request, user=request.user, resource=resource, action=action,
                          reason=decision.reason)  # fmt: skip
        return decision.allowed

    def has_object_permission(self, request, view, obj):
        action = rbac_action(request, view)
        decision = authorize(request.user, action, view.rbac_resource, obj)
        if not decision.allowed:
            record_denial(request, user=request.user, resource=view.rbac_resource,
                          action=action, obj=obj, reason=decision.reason)  # fmt: skip
        return decision.allowed


class RbacQuerysetMixin:
    """Narrow ``get_queryset()`` to what the caller may read, inside the SQL query."""

    rbac_list_action = "read"

    def get_queryset(self):
        return restrict(super().get_queryset(), self.request.user, self.rbac_list_action)
