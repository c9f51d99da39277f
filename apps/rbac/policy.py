"""Questions other apps ask about a person's roles, answered from the same cached grants."""

from apps.rbac.decisions import grants_for


def roles_require_mfa(user) -> bool:
    """Whether any role the person holds now (directly or through a group) demands MFA."""
    grants = grants_for(user)
    return bool(grants and grants.active and grants.requires_mfa)
