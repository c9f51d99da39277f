"""The user's own sessions (allauth.usersessions): ending one is recorded as an event."""

from allauth.usersessions.adapter import DefaultUserSessionsAdapter

from apps.siem.events import emit


def end_sessions(*, user, sessions) -> int:
    """End the given sessions of one user and record each; returns how many ended."""
    ended = 0
    for session in sessions:
        if session.user_id != user.pk:
            continue
        session.end()
        emit("auth.session.revoked", actor=user, details={"session": session.pk})
        ended += 1
    return ended


class PortalUserSessionsAdapter(DefaultUserSessionsAdapter):
    def end_sessions(self, sessions):
        sessions = list(sessions)
        if sessions:
            end_sessions(user=sessions[0].user, sessions=sessions)
