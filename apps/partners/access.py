"""Who may do what with customers: the one access path of the customer endpoints.

Access control decides (`restrict()` for lists, `authorize()` for each object); a machine
client acts as its application's service user, bound to the partner role scoped
`partner:<id>`, and its token's scopes can only narrow that (checked by ClientScopes).
"""

from rest_framework.permissions import SAFE_METHODS

from apps.api.permissions import is_machine_client, token_scopes
from apps.partners.models import Customer
from apps.rbac.middleware import record_denial
from apps.rbac.services import authorize, restrict

RESOURCE = "customers"
READ, WRITE, PERSONAL = "customers:read", "customers:write", "customers:personal"


def action_for(request) -> str:
    if request.method in SAFE_METHODS:
        return "read"
    return "create" if request.method == "POST" else "write"


def caller_reference(request) -> str:
    application = getattr(request.auth, "application", None)
    if application is not None:
        return f"client:{application.client_id}"
    return f"user:{request.user.pk}"


def may_use_customers(request) -> bool:
    """Whether any grant lets the caller do this kind of request on some customer."""
    action = action_for(request)
    decision = authorize(request.user, action, RESOURCE)
    if not decision.allowed and request.user.is_authenticated:
        record_denial(request, user=request.user, resource=RESOURCE, action=action,
                      reason=decision.reason)  # fmt: skip
    return decision.allowed


def may_act_on(request, customer: Customer) -> bool:
    action = action_for(request)
    decision = authorize(request.user, action, RESOURCE, customer)
    if not decision.allowed:
        record_denial(request, user=request.user, resource=RESOURCE, action=action,
                      obj=customer, reason=decision.reason)  # fmt: skip
    return decision.allowed


def may_see_personal_fields(request) -> bool:
    # A person reading records access control lets them read sees them whole; a machine
    # client needs the personal scope on top.
    if is_machine_client(request):
        return PERSONAL in token_scopes(request)
    return True


def visible_customers(request):
    return restrict(Customer.objects.all(), request.user, action_for(request))
