"""Permission parts every API view can use."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def token_scopes(request) -> set[str]:
    """The scopes of a machine client's OAuth2 token; empty for anything else."""
    scope = getattr(request.auth, "scope", None)
    return set(scope.split()) if isinstance(scope, str) else set()


def is_machine_client(request) -> bool:
    return getattr(request.auth, "application", None) is not None


class ClientScopes(BasePermission):
    """A machine client needs the view's scope for the kind of request it makes.

    Views declare ``client_scopes = {"read": "customers:read", "write": "customers:write"}``;
    a kind without a scope is closed to machine clients. User clients are not limited here:
    what a person may do is decided by access control, not by token scopes.
    """

    message = "This token does not allow this."

    def has_permission(self, request, view):
        if not is_machine_client(request):
            return bool(request.user and request.user.is_authenticated)
        kind = "read" if request.method in SAFE_METHODS else "write"
        needed = getattr(view, "client_scopes", {}).get(kind)
        return needed is not None and needed in token_scopes(request)
