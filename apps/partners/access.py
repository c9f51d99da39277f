"""Who may do what with customers: the one access path of the customer endpoints.

TODO: replace the partner check with apps.rbac's restrict()/authorize() once it is on main;
the machine client's service user then holds the `partner:<id>` binding and these functions
become thin calls into it. Until then: a machine client sees its own partner's customers, with
the scopes its token holds; a user client sees none (deny by default).
"""

from apps.api.permissions import token_scopes
from apps.partners.models import Customer

READ, WRITE, PERSONAL = "customers:read", "customers:write", "customers:personal"


def caller_reference(request) -> str:
    application = getattr(request.auth, "application", None)
    if application is not None:
        return f"client:{application.client_id}"
    return f"user:{request.user.pk}"


def may(request, scope: str) -> bool:
    # Guard: only partner machine clients reach customers until RBAC grants users anything.
    if getattr(request, "partner", None) is None:
        return False
    return scope in token_scopes(request)


def visible_customers(request):
    partner = getattr(request, "partner", None)
    if partner is None:
        return Customer.objects.none()
    return Customer.objects.filter(partner=partner)
