"""JWTs for user clients, each tied to an open TokenSession row.

An access token lives at most PORTAL_JWT_ACCESS_SECONDS (15 minutes at most); a refresh token
is accepted once: refreshing swaps the session's single valid refresh id with a conditional
UPDATE, so of two parallel refreshes of one token exactly one wins.
"""

import uuid

from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.api.models import TokenSession
from apps.rbac.policy import role_names


def roles_of(user) -> list[str]:
    """The access-control roles the person holds now, plus "staff" for staff accounts."""
    roles = role_names(user)
    if user.is_staff:
        roles.append("staff")
    return roles


def _stamp(token, session: TokenSession, now) -> None:
    token["user_id"] = session.user_id
    token["sid"] = str(session.pk)
    token.payload["nbf"] = int(now.timestamp())


def issue_token_pair(session: TokenSession) -> dict:
    """A fresh access token and the refresh token whose id the session now holds."""
    now = timezone.now()

    refresh = RefreshToken()
    _stamp(refresh, session, now)
    refresh["jti"] = session.refresh_jti

    access = AccessToken()
    _stamp(access, session, now)
    access["roles"] = roles_of(session.user)
    access["mfa_verified"] = session.mfa_verified

    return {
        "access": str(access),
        "refresh": str(refresh),
        "token_type": "Bearer",
        "expires_in": settings.PORTAL_JWT_ACCESS_SECONDS,
    }


def new_refresh_id() -> str:
    return uuid.uuid4().hex


def session_is_current(session: TokenSession) -> bool:
    """Whether the session is open, its user active, and its password unchanged."""
    user = session.user
    return (
        session.ended_at is None
        and user.is_active
        and session.credential_hash == user.get_session_auth_hash()
    )


def open_session_for(token) -> TokenSession | None:
    """The open session a validated token belongs to, or None when it has ended."""
    try:
        session_id = uuid.UUID(str(token["sid"]))
    except (KeyError, ValueError):
        return None
    session = (
        TokenSession.objects.select_related("user")
        .filter(pk=session_id, user_id=token.get("user_id"))
        .first()
    )
    if session is None or not session_is_current(session):
        return None
    return session
