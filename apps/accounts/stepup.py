"""Step-up: has this session proved who it is recently enough for a sensitive action?

allauth keeps, in the session, a record of every way the user proved themselves (password,
social login, second factor, re-authentication) with its time. Step-up reads those records; the
second-factor stage and the MFA re-authentication page add the "mfa" ones.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from allauth.account.internal.flows.login import get_authentication_records
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

STEP_UP_WINDOW_SECONDS = 5 * 60
SECOND_FACTOR_METHOD = "mfa"


def recently_reauthenticated(request, *, within_seconds=STEP_UP_WINDOW_SECONDS) -> bool:
    """True if a password, social login or second factor was given in the last N seconds."""
    return _latest_record_age(request, methods=None) < within_seconds


def recently_passed_second_factor(request, *, within_seconds=STEP_UP_WINDOW_SECONDS) -> bool:
    """True if a second factor was given in this session in the last N seconds."""
    return _latest_record_age(request, methods={SECOND_FACTOR_METHOD}) < within_seconds


def mfa_verified(request) -> bool:
    """True if this session passed a second factor when it was created or since.

    django-otp's middleware reads the device remembered in the session and checks it still
    belongs to the user and is confirmed; a removed device therefore unverifies the session.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def second_factor_overdue(request) -> bool:
    """True if a playbook demanded a fresh second factor that this session has not given since.

    The demand is a time on the user (``second_factor_due_at``); a session is cleared by a
    second factor recorded at or after it, at login or on the verification page.
    """
    due_at = getattr(request.user, "second_factor_due_at", None)
    if due_at is None:
        return False
    return _latest_record_time(request, methods={SECOND_FACTOR_METHOD}) < due_at.timestamp()


def require_recent_authentication(second_factor=False, within_seconds=STEP_UP_WINDOW_SECONDS):
    """Send the user to re-authenticate first, then back to the page they asked for.

    With ``second_factor=True`` only a second factor counts, and a user without any device is
    sent to set one up first.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            missing = _missing_proof(request, second_factor, within_seconds)
            if missing:
                return _redirect_with_next(missing, request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def missing_proof_for_new_passkey(request) -> str | None:
    """The page that supplies the proof adding a passkey needs, or None if this session has it.

    A passkey signs in alone, so it needs what replacing a factor needs: a second factor from
    the last five minutes, or a password from then when the account has no factor yet.
    """
    has_factor = user_has_device(request.user, confirmed=True)
    return _missing_proof(request, has_factor, STEP_UP_WINDOW_SECONDS)


def proof_url(urlname, next_url) -> str:
    return f"{reverse(urlname)}?{urlencode({'next': next_url})}"


def _missing_proof(request, second_factor, within_seconds) -> str | None:
    """The page that would supply the proof this request lacks, or None if it has it."""
    if second_factor:
        if recently_passed_second_factor(request, within_seconds=within_seconds):
            return None
        if not user_has_device(request.user, confirmed=True):
            return "mfa_totp_enrol"
        return "mfa_reauthenticate"
    if recently_reauthenticated(request, within_seconds=within_seconds):
        return None
    # allauth's page asks for the password and offers the second factor beside it.
    if request.user.has_usable_password():
        return "account_reauthenticate"
    return "mfa_reauthenticate"


def _latest_record_age(request, *, methods) -> float:
    return time.time() - _latest_record_time(request, methods=methods)


def _latest_record_time(request, *, methods) -> float:
    """When the session last proved itself by one of ``methods``; -inf if never."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return float("-inf")
    times = [
        record.get("at", 0)
        for record in get_authentication_records(request, user)
        if methods is None or record.get("method") in methods
    ]
    return max(times) if times else float("-inf")


def _redirect_with_next(urlname, request):
    return redirect(proof_url(urlname, request.get_full_path()))
