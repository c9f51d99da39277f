"""What a security playbook may do to an account, each safe to run twice.

The security-monitoring app calls these; they change accounts only through here, so the rules
for locking, signing out and resetting live with the accounts they act on.
"""

import logging

from allauth.usersessions.models import UserSession
from django.apps import apps

from apps.core.mail import queue_email
from apps.siem.events import emit

logger = logging.getLogger(__name__)


def end_sessions_and_tokens(user, *, actor) -> int:
    """Sign the user out everywhere: web sessions, OAuth2 tokens and JWT refresh tokens."""
    # allauth lists every signed-in web session under its user (at login, and on each request
    # while activity is tracked), so this touches the user's own sessions only, whatever the
    # session store and however many other people are signed in.
    ended = 0
    for web_session in UserSession.objects.filter(user=user):
        web_session.end()
        ended += 1

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

    emit("auth.logout", actor=actor, subject=user, details={"reason": "security", "ended": ended})
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


def require_fresh_second_factor(user, *, actor) -> int:
    """Sign the user out everywhere, so that the next session starts with the second factor.

    Every login goes through the second-factor stage, so ending all sessions and tokens is what
    makes the next access prove it again.
    """
    ended = end_sessions_and_tokens(user, actor=actor)
    emit("security.suspicious.activity", actor=actor, subject=user, details={"action": "mfa"})
    return ended


def notify_account_owner(user, *, subject: str, body: str) -> None:
    queue_email(recipients=[user.email], subject=subject, body_text=body)
