"""The security events access control writes, added to the catalogue at start-up."""

from apps.siem.events import Outcome, Severity, register_event_type

ROLE_CREATED = "rbac.role.created"
ROLE_CHANGED = "rbac.role.changed"
ROLE_DELETED = "rbac.role.deleted"
BINDING_CREATED = "rbac.binding.created"
BINDING_REVOKED = "rbac.binding.revoked"
BINDING_EXPIRED = "rbac.binding.expired"
GRANT_CREATED = "rbac.grant.created"
GRANT_REVOKED = "rbac.grant.revoked"
ACCOUNT_DISABLED = "rbac.account.disabled_inactive"
REVIEW_TAKEN = "rbac.review.taken"
UNAUTHORIZED = "auth.unauthorized.access"

for _type, _severity in [
    (ROLE_CREATED, Severity.MEDIUM),
    (ROLE_CHANGED, Severity.MEDIUM),
    (ROLE_DELETED, Severity.MEDIUM),
    (BINDING_CREATED, Severity.MEDIUM),
    (BINDING_REVOKED, Severity.MEDIUM),
    (BINDING_EXPIRED, Severity.LOW),
    (GRANT_CREATED, Severity.MEDIUM),
    (GRANT_REVOKED, Severity.MEDIUM),
    (ACCOUNT_DISABLED, Severity.MEDIUM),
    (REVIEW_TAKEN, Severity.INFO),
]:
    register_event_type(_type, _severity, Outcome.SUCCESS)
