"""Questions other apps ask about a person's roles, answered from the same cached grants."""

from apps.rbac.decisions import grants_for


def roles_require_mfa(user) -> bool:
    """Whether any role the person holds now (directly or through a group) demands MFA."""
    grants = grants_for(user)
    return bool(grants and grants.active and grants.requires_mfa)


def role_names(user) -> list[str]:
    """The names of the roles the person holds now, sorted; for token claims and profile pages."""
    grants = grants_for(user)
    if not grants or not grants.active:
        return []
    return sorted(grants.roles)
