"""The second-factor rule for password logins at the token endpoint, the web login's rule.

Whoever has a confirmed second factor, or must use one (staff, roles that require it), gets
tokens only with a valid code. The code is checked by the MFA services, which refuse replays,
throttle per device and lock slow guessing, exactly as on the web.
"""

from apps.accounts.mfa.services import has_second_factor, verify_second_factor
from apps.accounts.mfa_policy import user_must_use_mfa

NEEDS_CODE = "needs_code"
NEEDS_ENROLMENT = "needs_enrolment"


def second_factor_demand(user) -> str | None:
    """None when a password is enough, else what the person must still do."""
    if has_second_factor(user):
        return NEEDS_CODE
    if user_must_use_mfa(user):
        # Enrolment happens in the browser, where the person can scan a code.
        return NEEDS_ENROLMENT
    return None


def passes_second_factor(user, code: str | None) -> tuple[bool, str | None]:
    if not code:
        return False, None
    verification = verify_second_factor(user=user, code=code, purpose="api-login")
    return verification.accepted, verification.refusal


def second_factor_devices(user) -> list:
    from django_otp import devices_for_user

    return list(devices_for_user(user, confirmed=None))
