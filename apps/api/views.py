"""Endpoints of the API base: tokens for user clients, the caller's own account, health."""

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.receivers import record_failed_login
from apps.api import serializers
from apps.api.errors import error_body, error_response
from apps.api.models import TokenSession
from apps.api.second_factor import (
    NEEDS_CODE,
    NEEDS_ENROLMENT,
    passes_second_factor,
    second_factor_demand,
    second_factor_devices,
)
from apps.api.services import (
    RefreshRefused,
    end_token_session,
    rotate_refresh_token,
    start_token_session,
)
from apps.api.tokens import open_session_for, roles_of
from apps.core.views import CHECKS
from apps.siem.events import emit

# One wording for every failed password login, so that answers do not reveal which accounts
# exist or whether a password was right.
LOGIN_FAILED = "The email address or password is not correct."
LOCKED = "Too many failed login attempts. Try again later."
# allauth's per-account window for failed logins (ACCOUNT_RATE_LIMITS["login_failed"]).
LOCKOUT_RETRY_SECONDS = 300


class IsUserClient(permissions.BasePermission):
    """Only a person's own token (JWT) may use endpoints about "me"."""

    def has_permission(self, request, view):
        return getattr(request, "token_session", None) is not None


# Token values here are shortened stand-ins, not tokens that were ever issued.
TOKEN_PAIR_EXAMPLE = OpenApiExample(
    "Token pair",
    value={"access": "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxN30.c2lnbmF0dXJl",
           "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
           "token_type": "Bearer", "expires_in": 300},
    response_only=True,
)  # fmt: skip


class TokenObtainView(APIView):
    """Exchange an email address and password (and second factor) for a token pair."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=serializers.TokenObtainSerializer,
        responses={200: serializers.TokenPairSerializer},
        examples=[
            OpenApiExample(
                "Password login",
                value={"email": "casey@example.com", "password": "correct horse battery"},
                request_only=True,
            ),
            TOKEN_PAIR_EXAMPLE,
        ],
        tags=["auth"],
    )
    def post(self, request):
        form = serializers.TokenObtainSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        email, password = form.validated_data["email"], form.validated_data["password"]

        # The same adapter call as the web login: same per-address and per-account counters.
        http_request = request._request
        with allauth_context.request_context(http_request):
            try:
                user = get_adapter(http_request).authenticate(
                    http_request, email=email, password=password
                )
            except (forms.ValidationError, DjangoValidationError):
                # Refused before any password check, so Django's failure signal never fires:
                # the event is written here, naming the account like every other failure does.
                record_failed_login(email, channel="api", reason="locked")
                return error_response(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    "locked",
                    LOCKED,
                    headers={"Retry-After": str(LOCKOUT_RETRY_SECONDS)},
                )

        # Guard: wrong password, unknown or inactive account all read the same. Django's failure
        # signal has recorded the event already (apps/accounts/receivers.py), once. allauth hands
        # back an inactive account whose password was right (for its "account inactive" page);
        # here it gets the same refusal, so this endpoint does not confirm its password either.
        if user is None or not user.is_active:
            return error_response(
                status.HTTP_401_UNAUTHORIZED, "invalid_credentials", LOGIN_FAILED
            )
        # Guard: the web login needs a verified address first, and so does this.
        if not EmailAddress.objects.filter(user=user, verified=True).exists():
            emit(
                "auth.login.failure",
                actor=user,
                details={"channel": "api", "reason": "unverified"},
            )
            return error_response(
                status.HTTP_403_FORBIDDEN, "email_unverified", "Verify your email address first."
            )
        # Guard: whoever must use a second factor on the web must use it here too.
        demand = second_factor_demand(user)
        if demand == NEEDS_ENROLMENT:
            emit("auth.login.failure", actor=user, details={"channel": "api", "reason": "enrol"})
            return error_response(
                status.HTTP_403_FORBIDDEN,
                "second_factor_enrolment_required",
                "Set up a second factor in your account settings first.",
            )
        if demand == NEEDS_CODE:
            passed, refusal = passes_second_factor(user, form.validated_data.get("otp"))
            if not passed:
                return error_response(
                    status.HTTP_403_FORBIDDEN,
                    "second_factor_required",
                    refusal or "A valid second-factor code is required.",
                )

        _, pair = start_token_session(user=user, mfa_verified=demand == NEEDS_CODE)
        return Response(pair)


class TokenRefreshView(APIView):
    """Swap a refresh token for a new pair; each refresh token works once."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=serializers.RefreshSerializer,
        responses={200: serializers.TokenPairSerializer},
        examples=[
            OpenApiExample(
                "Refresh",
                value={"refresh": "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"},
                request_only=True,
            ),
            TOKEN_PAIR_EXAMPLE,
        ],
        tags=["auth"],
    )
    def post(self, request):
        form = serializers.RefreshSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            pair = rotate_refresh_token(form.validated_data["refresh"])
        except RefreshRefused:
            # Answered, not raised: a raised error would roll back the session's end on reuse.
            return error_response(
                status.HTTP_401_UNAUTHORIZED, "token_not_valid", "The refresh token is not valid."
            )
        return Response(pair)


class TokenVerifyView(APIView):
    """Tell whether an access token is valid now, session included."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=serializers.VerifySerializer,
        responses={200: serializers.VerifiedSerializer},
        examples=[
            OpenApiExample(
                "Verify",
                value={"token": "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxN30.c2lnbmF0dXJl"},
                request_only=True,
            ),
            OpenApiExample("Still valid", value={"active": True}, response_only=True),
        ],
        tags=["auth"],
    )
    def post(self, request):
        from apps.api.authentication import UserTokenAuthentication

        form = serializers.VerifySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        checker = UserTokenAuthentication()
        try:
            token = checker.get_validated_token(form.validated_data["token"].encode())
        except Exception:  # noqa: BLE001 - any failure to decode means "not valid", never a 500
            token = None
        if token is None or open_session_for(token) is None:
            return error_response(
                status.HTTP_401_UNAUTHORIZED, "token_not_valid", "The token is not valid."
            )
        return Response({"active": True})


class LogoutView(APIView):
    """End the caller's token session: every access and refresh token of it stops working."""

    permission_classes = [IsUserClient]

    @extend_schema(
        summary="End this token's session (both tokens stop working)",
        request=None,
        responses={204: None},
        tags=["auth"],
    )
    def post(self, request):
        end_token_session(
            request.token_session, reason=TokenSession.EndReason.LOGOUT, actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsUserClient]

    @extend_schema(
        responses={200: serializers.ProfileSerializer},
        examples=[
            OpenApiExample(
                "Casey",
                value={
                    "id": 17,
                    "email": "casey@example.com",
                    "date_joined": "2026-01-31T09:30:00Z",
                    "roles": ["customer"],
                    "mfa_verified": True,
                },
                response_only=True,
            )
        ],
        tags=["me"],
    )
    def get(self, request):
        user = request.user
        return Response(
            {
                "id": user.pk,
                "email": user.email,
                "date_joined": user.date_joined,
                "roles": roles_of(user),
                "mfa_verified": request.token_session.mfa_verified,
            }
        )


class MySessionsView(APIView):
    permission_classes = [IsUserClient]
    pagination_class = None

    @extend_schema(
        responses={200: serializers.TokenSessionSerializer(many=True)},
        examples=[
            OpenApiExample(
                "This session",
                value={
                    "id": "0b6f3c52-8a8e-4d44-9f0e-2a1f5c7d9e31",
                    "created_at": "2026-12-04T08:00:00Z",
                    "refreshed_at": "2026-12-04T08:05:00Z",
                    "ip": "203.0.113.9",
                    "user_agent": "AcmeApp/2.1 (Android 15)",
                    "mfa_verified": True,
                    "current": True,
                },
                response_only=True,
            )
        ],
        tags=["me"],
    )
    def get(self, request):
        current = request.token_session.pk
        sessions = TokenSession.objects.filter(user=request.user, ended_at__isnull=True)
        rows = [
            {
                "id": session.pk,
                "created_at": session.created_at,
                "refreshed_at": session.refreshed_at,
                "ip": session.ip,
                "user_agent": session.user_agent,
                "mfa_verified": session.mfa_verified,
                "current": session.pk == current,
            }
            for session in sessions.order_by("-created_at")[:100]
        ]
        return Response(serializers.TokenSessionSerializer(rows, many=True).data)


class MySessionView(APIView):
    permission_classes = [IsUserClient]

    @extend_schema(
        summary="End one of your token sessions",
        request=None,
        responses={204: None},
        tags=["me"],
    )
    def delete(self, request, session_id):
        session = TokenSession.objects.filter(
            pk=session_id, user=request.user, ended_at__isnull=True
        ).first()
        if session is None:
            raise NotFound
        end_token_session(session, reason=TokenSession.EndReason.LOGOUT, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyDevicesView(APIView):
    permission_classes = [IsUserClient]

    @extend_schema(
        responses={200: serializers.DeviceSerializer(many=True)},
        examples=[
            OpenApiExample(
                "An authenticator app",
                value={
                    "id": "otp_totp.totpdevice/4",
                    "kind": "TOTPDevice",
                    "name": "Phone",
                    "confirmed": True,
                },
                response_only=True,
            )
        ],
        tags=["me"],
    )
    def get(self, request):
        rows = [
            {
                "id": device.persistent_id,
                "kind": type(device).__name__,
                "name": device.name,
                "confirmed": bool(device.confirmed),
            }
            for device in second_factor_devices(request.user)
        ]
        return Response(serializers.DeviceSerializer(rows, many=True).data)


class HealthView(APIView):
    """Whether the database, cache and broker answer. Names states only, never reasons."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={200: serializers.HealthSerializer, 503: serializers.HealthSerializer},
        examples=[
            OpenApiExample(
                "Healthy",
                value={
                    "status": "ok",
                    "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Cache down",
                value={
                    "status": "unavailable",
                    "checks": {"database": "ok", "cache": "down", "broker": "ok"},
                },
                response_only=True,
                status_codes=["503"],
            ),
        ],
        tags=["health"],
    )
    def get(self, request):
        states = {}
        for name, check in CHECKS.items():
            try:
                states[name] = "ok" if check() else "down"
            except Exception:  # noqa: BLE001 - a failing service, whatever the error, is "down"
                states[name] = "down"
        healthy = all(state == "ok" for state in states.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", "checks": states},
            status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


@csrf_exempt  # nothing happens here; a CSRF page would only hide the 404
def api_not_found(request, *args, **kwargs):
    """Unknown addresses under /api/ answer with the JSON error body, whatever the method."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)
