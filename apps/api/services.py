"""Writes of the API base: token sessions begin, rotate and end here."""

import logging

from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from apps.api.models import TokenSession
from apps.api.tokens import issue_token_pair, new_refresh_id, session_is_current
from apps.core.context import current_request_context
from apps.siem.events import emit

logger = logging.getLogger(__name__)


class RefreshRefused(Exception):
    """A refresh token that gives nothing; ``reused`` when it was an already rotated one."""

    def __init__(self, *, reused: bool = False):
        super().__init__("refresh refused")
        self.reused = reused


def start_token_session(*, user, mfa_verified: bool) -> tuple[TokenSession, dict]:
    """Open a token session for a user who just proved who they are, and issue its tokens."""
    context = current_request_context()
    session = TokenSession.objects.create(
        user=user,
        refresh_jti=new_refresh_id(),
        credential_hash=user.get_session_auth_hash(),
        mfa_verified=mfa_verified,
        ip=context.ip,
        user_agent=(context.user_agent or "")[:512],
    )
    emit(
        "auth.login.success",
        actor=user,
        details={"channel": "api", "token_session": str(session.pk)},
    )
    return session, issue_token_pair(session)


def rotate_refresh_token(raw_refresh: str) -> dict:
    """Swap a refresh token for a new pair, exactly once.

    1. The token must be ours: signature, audience, issuer, expiry and type are checked.
    2. One conditional UPDATE replaces the session's refresh id only if it still is this
       token's id, so among parallel refreshes of one token exactly one updates a row.
    3. A genuine token whose id is no longer current was used before: someone holds a copy.
       The whole session ends and a security event is raised. The caller must let this write
       commit even though it answers with an error.
    """
    try:
        token = RefreshToken(raw_refresh)
        session_id, token_id = str(token["sid"]), str(token["jti"])
    except (TokenError, KeyError, ValueError, TypeError):
        raise RefreshRefused from None

    replacement = new_refresh_id()
    claimed = TokenSession.objects.filter(
        pk=session_id, refresh_jti=token_id, ended_at__isnull=True
    ).update(refresh_jti=replacement, refreshed_at=timezone.now())

    session = TokenSession.objects.select_related("user").filter(pk=session_id).first()
    if session is None:
        raise RefreshRefused
    if not claimed:
        if session.ended_at is None:
            _end_for_reuse(session)
            raise RefreshRefused(reused=True)
        raise RefreshRefused
    if not session_is_current(session):
        raise RefreshRefused
    return issue_token_pair(session)


def _end_for_reuse(session: TokenSession) -> None:
    end_token_session(session, reason=TokenSession.EndReason.REFRESH_REUSE, actor=None)
    logger.warning(
        "refresh token reuse ended token session %s of user %s", session.pk, session.user_id
    )
    emit(
        "auth.token.reuse",
        actor=None,
        subject=session.user,
        details={"token_session": str(session.pk)},
    )


def end_token_session(session: TokenSession, *, reason: str, actor) -> bool:
    """End one session: its access and refresh tokens stop working on their next use."""
    ended = TokenSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )
    if ended and reason == TokenSession.EndReason.LOGOUT:
        emit("auth.logout", actor=actor, subject=session.user, details={"channel": "api"})
    return bool(ended)


def end_token_sessions_of(user, *, reason: str, actor=None) -> int:
    """End every open token session of a user (password or second-factor change, lockout)."""
    return TokenSession.objects.filter(user=user, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )
