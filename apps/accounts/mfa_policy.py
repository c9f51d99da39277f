"""Who must use a second factor, whatever they would choose for themselves."""


def user_must_use_mfa(user) -> bool:
    """Staff, superusers and holders of a role marked as requiring MFA must enrol."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return _roles_require_mfa(user)


def _roles_require_mfa(user) -> bool:
    try:
        from apps.rbac.policy import roles_require_mfa
    except ImportError:
        # Roles arrive with the access-control app; until it is installed no role can ask.
        return False
    return roles_require_mfa(user)
