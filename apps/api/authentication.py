"""Who is calling: a partner's machine client (OAuth2) or a user client (JWT).

Both arrive as ``Authorization: Bearer <token>``. A JWT has three dot-separated parts and goes
to the user-token check; anything else is looked up as an opaque OAuth2 access token.
"""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from apps.api.tokens import open_session_for

REQUIRED_ACCESS_CLAIMS = ("sid", "user_id", "jti", "exp", "nbf", "iat", "aud", "iss")


def _looks_like_jwt(request) -> bool:
    parts = get_authorization_header(request).split()
    return len(parts) == 2 and parts[1].count(b".") == 2


def _partner_link(application_id):
    from apps.partners.models import PartnerApplication

    # One query for the partner, the application and its service user.
    return (
        PartnerApplication.objects.select_related("partner", "application__user")
        .filter(application_id=application_id)
        .first()
    )


class PartnerClientAuthentication(OAuth2Authentication):
    """An opaque client-credentials token; the caller acts as its application's service user."""

    def authenticate(self, request):
        if _looks_like_jwt(request):
            return None
        result = super().authenticate(request)
        if result is None:
            return None

        access_token = result[1]
        link = _partner_link(access_token.application_id)
        service_user = link.application.user if link is not None else None
        # Guard: a token of an application that is not a partner's is not for this API.
        if link is None or service_user is None:
            raise exceptions.AuthenticationFailed(_("This client is not a partner application."))
        # Guard: a suspended partner or a disabled service user loses access at once.
        if not link.partner.is_active or not service_user.is_active:
            raise exceptions.AuthenticationFailed(_("This client is suspended."))
        access_token.application = link.application  # reuse the row already loaded
        request.partner = link.partner
        return service_user, access_token


class UserTokenAuthentication(JWTAuthentication):
    """A JWT access token, valid only while its token session is open."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None

        try:
            validated = self.get_validated_token(raw_token)
        except (InvalidToken, TokenError, UnicodeError, ValueError, TypeError):
            raise exceptions.AuthenticationFailed(
                _("The token is not valid."), code="token_not_valid"
            ) from None
        # Guard: a token we issued carries every one of these; a forged one may not.
        if any(claim not in validated for claim in REQUIRED_ACCESS_CLAIMS):
            raise exceptions.AuthenticationFailed(
                _("The token is not valid."), code="token_not_valid"
            )
        session = open_session_for(validated)
        if session is None:
            raise exceptions.AuthenticationFailed(
                _("The session of this token has ended."), code="session_ended"
            )
        request.token_session = session
        return session.user, validated
