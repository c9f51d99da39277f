"""The second-factor rule for password logins at the token endpoint, same as the web login.

The MFA login stage lives in apps.accounts; this module only asks it two questions, and keeps
working (requiring nothing) on an installation where neither the policy nor django-otp is
present yet.
"""

from django.apps import apps


def second_factor_required(user) -> bool:
    try:
        from apps.accounts.mfa_policy import user_must_use_mfa
    except ImportError:
        user_must_use_mfa = None
    if user_must_use_mfa is not None and user_must_use_mfa(user):
        return True
    if apps.is_installed("django_otp"):
        from django_otp import user_has_device

        return user_has_device(user, confirmed=True)
    return False


def verify_second_factor(user, code: str | None) -> bool:
    """Check a code against the user's devices; django-otp refuses replays and throttles."""
    if not code or not apps.is_installed("django_otp"):
        return False
    from django_otp import match_token

    return match_token(user, code) is not None


def second_factor_devices(user) -> list:
    if not apps.is_installed("django_otp"):
        return []
    from django_otp import devices_for_user

    return list(devices_for_user(user, confirmed=None))
