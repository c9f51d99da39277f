"""What a security playbook may do to an account, each safe to run twice.

The security-monitoring app calls these; they change accounts only through here, so the rules
for locking, signing out and resetting live with the accounts they act on.
"""

import logging

from allauth.usersessions.models import UserSession
from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from apps.core.mail import queue_email
from apps.siem.events import emit

logger = logging.getLogger(__name__)


def end_sessions_and_tokens(user, *, actor) -> int:
    """Sign the user out everywhere: web sessions, OAuth2 tokens and JWT refresh tokens."""
    ended = _end_web_sessions(user) + _end_tokens(user)
    emit("auth.logout", actor=actor, subject=user, details={"reason": "security", "ended": ended})
    return ended


def _end_web_sessions(user) -> int:
    # allauth lists every signed-in web session under its user (at login, and on each request
    # while activity is tracked), so this touches the user's own sessions only, whatever the
    # session store and however many other people are signed in.
    ended = 0
    for web_session in UserSession.objects.filter(user=user):
        web_session.end()
        ended += 1
    return ended


def _end_tokens(user) -> int:
    """End the user's OAuth2 tokens, JWT refresh tokens and partner API token sessions."""
    ended = 0
    if apps.is_installed("oauth2_provider"):
        from oauth2_provider.models import get_access_token_model, get_refresh_token_model

        for refresh in get_refresh_token_model().objects.filter(user=user, revoked__isnull=True):
            refresh.revoke()
        ended += get_access_token_model().objects.filter(user=user).delete()[0]

    if apps.is_installed("rest_framework_simplejwt.token_blacklist"):
        from rest_framework_simplejwt.token_blacklist.models import (
            BlacklistedToken,
            OutstandingToken,
        )

        for token in OutstandingToken.objects.filter(user=user):
            _, created = BlacklistedToken.objects.get_or_create(token=token)
            ended += created

    if apps.is_installed("apps.api"):
        # The partner API's user tokens belong to token sessions; ending those ends the tokens.
        from apps.api.models import TokenSession
        from apps.api.services import end_token_sessions_of

        ended += end_token_sessions_of(user, reason=TokenSession.EndReason.REVOKED)
    return ended


def lock_account(user, *, actor) -> bool:
    """Deactivate the account and sign it out; return False when it was already inactive."""
    if not user.is_active:
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])
    end_sessions_and_tokens(user, actor=actor)
    emit("security.suspicious.activity", actor=actor, subject=user, details={"action": "lock"})
    return True


def unlock_account(user, *, actor) -> None:
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])
    emit("security.suspicious.activity", actor=actor, subject=user, details={"action": "unlock"})


def force_password_reset(user, *, actor) -> bool:
    """Make the current password unusable, sign the user out, and tell them how to set one."""
    if not user.has_usable_password():
        return False
    user.set_unusable_password()
    user.save(update_fields=["password"])
    end_sessions_and_tokens(user, actor=actor)
    emit("auth.password.reset", actor=actor, subject=user, details={"forced": True})
    queue_email(
        recipients=[user.email],
        subject="[Portal] Please choose a new password",
        body_text=(
            "We saw repeated attempts to sign in to your account and have switched off its "
            'password to protect it.\n\nChoose a new one with "Forgot password" on the sign-in '
            "page. If these attempts were not yours, no further action is needed."
        ),
    )
    return True


def require_fresh_second_factor(user, *, actor) -> str:
    """Make every existing session of the user prove the second factor again; say what was done.

    1. A user with a second factor is marked: each web session whose last second factor is
       older than the mark is held at the verification page on its next request (see
       apps/accounts/mfa/middleware.py), and carries on from there once a code is accepted.
    2. Tokens cannot be sent to a page, so OAuth2 tokens and API token sessions are ended; the
       client signs in again, and the token endpoint asks for the code.
    3. A user without a second factor has nothing to prove it with, and enrolling one from a
       session that may be someone else's would hand that person the account: every session
       and token ends, and the next login follows the MFA policy (enrolment for staff and
       roles that require it).

    A playbook task delivered twice calls this once (its action's claim row). Called again by
    anything else, it moves the mark forward, never back.
    """
    from apps.accounts.mfa.services import has_second_factor

    if not has_second_factor(user):
        ended = end_sessions_and_tokens(user, actor=actor)
        emit(
            "security.suspicious.activity", actor=actor, subject=user,
            details={"action": "mfa", "outcome": "signed out: no second factor", "ended": ended},
        )  # fmt: skip
        return f"no second factor: {ended} session(s) and token(s) ended"

    now = timezone.now()
    type(user).objects.filter(pk=user.pk).filter(
        Q(second_factor_due_at__isnull=True) | Q(second_factor_due_at__lt=now)
    ).update(second_factor_due_at=now)
    ended = _end_tokens(user)
    emit(
        "security.suspicious.activity", actor=actor, subject=user,
        details={"action": "mfa", "outcome": "second factor demanded", "tokens_ended": ended},
    )  # fmt: skip
    return f"sessions must pass the second factor again; {ended} token(s) ended"


def notify_account_owner(user, *, subject: str, body: str) -> None:
    queue_email(recipients=[user.email], subject=subject, body_text=body)
