"""Passkeys (django-otp-webauthn) as the second step of a login, or as the whole sign-in.

The package's own authentication views either verify a session that is already signed in or
sign someone in with the passkey alone, around allauth's login stages. Neither fits, so:

* At the second-factor stage the user is known only to allauth's stashed, half-finished login.
  The stage views take the user from there and finish the login through the stage, like a TOTP
  or backup code would.
* The sign-in views name nobody in advance: the browser offers the site's discoverable passkeys,
  the user verifies (PIN or biometric, required), and the login then runs through allauth's
  stages like any other, marked so that the second-factor stage counts the passkey as both
  factors. Locked accounts and locked second factors are refused as at the stage.
* The registration views are the package's, with step-up in front: since a passkey signs in
  alone, adding one is as sensitive as setting a password.
"""

from allauth.account.internal.flows.login import perform_login, record_authentication
from allauth.account.models import Login
from allauth.account.stages import LoginStageController
from django.conf import settings
from django.middleware.csrf import get_token
from django.urls import reverse
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from apps.accounts.mfa import services
from apps.accounts.mfa.stage import PASSKEY_SIGN_IN, STAGE_KEY
from apps.accounts.stepup import missing_proof_for_new_passkey
from apps.siem.events import emit


class _PendingLoginUser:
    def _stage(self):
        if not hasattr(self, "_cached_stage"):
            self._cached_stage = LoginStageController.enter(self.request, STAGE_KEY)
        return self._cached_stage

    def get_user(self):
        stage = self._stage()
        return stage.login.user if stage else None

    def check_can_authenticate(self):
        # No half-finished login means no one to verify; a passkey alone signs nobody in here.
        user = self.get_user()
        if user is None or not user.is_active:
            raise exceptions.NotAuthenticated()
        if services.is_second_factor_locked(user):
            raise exceptions.UserDisabled()


class BeginStagePasskeyView(_PendingLoginUser, BeginCredentialAuthenticationView):
    pass


class CompleteStagePasskeyView(_PendingLoginUser, CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        stage = self._stage()
        user = stage.login.user
        if device.user_id != user.pk:
            raise exceptions.CredentialDisabled()

        services.record_passkey_success(user=user, device=device)
        from apps.accounts.mfa.views import note_second_factor

        note_second_factor(self.request, user, services.Verification(device=device))
        user.otp_device = device
        self._login_response = stage.exit()

    def get_success_url(self):
        response = getattr(self, "_login_response", None)
        location = response.get("Location") if response is not None else None
        return location or settings.LOGIN_REDIRECT_URL


class _PasskeySignIn:
    def get_user(self):
        # Whoever this session belongs to, the ceremony names nobody: the passkey says who.
        return None

    def check_can_authenticate(self):
        if not settings.PORTAL_PASSKEY_SIGN_IN:
            raise exceptions.PasswordlessLoginDisabled()


class BeginPasskeySignInView(_PasskeySignIn, BeginCredentialAuthenticationView):
    """Challenge for a discoverable passkey; with no user named, user verification is required."""


class CompletePasskeySignInView(_PasskeySignIn, CompleteCredentialAuthenticationView):
    def post(self, *args, **kwargs):
        try:
            return super().post(*args, **kwargs)
        except exceptions.OTPWebAuthnApiError as refusal:
            emit(
                "auth.login.failure",
                details={"method": "passkey", "reason": type(refusal).__name__},
            )
            raise

    def check_device_usable(self, device):
        super().check_device_usable(device)  # confirmed, and its user active (not locked)
        if services.is_second_factor_locked(device.user):
            raise exceptions.UserDisabled()

    def complete_auth(self, device):
        user = device.user
        services.record_passkey_success(user=user, device=device)
        record_authentication(self.request, user, "mfa", type="webauthn", passwordless=True)

        # django-otp remembers the device in the session when the login completes.
        user.otp_device = device
        login = Login(user=user, redirect_url=self.get_redirect_url() or None)
        login.state[PASSKEY_SIGN_IN] = True
        self._login_response = perform_login(self.request, login)

    def get_success_url(self):
        response = getattr(self, "_login_response", None)
        location = response.get("Location") if response is not None else None
        return location or settings.LOGIN_REDIRECT_URL


class ReauthenticationRequired(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_detail = "Confirm it is you again before adding a passkey."
    default_code = "reauthentication_required"


class _FreshProofForNewPasskey:
    def check_can_register(self):
        # A passkey signs its holder in on its own, both factors at once. Whoever sits at a
        # session signed in long ago (a borrowed laptop, a stolen cookie) would otherwise leave
        # one behind that outlives a password change and skips the owner's second factor. Both
        # views check: the proof may lapse between the challenge and the answer.
        super().check_can_register()
        if missing_proof_for_new_passkey(self.request):
            raise ReauthenticationRequired()


class BeginPasskeyRegistrationView(_FreshProofForNewPasskey, BeginCredentialRegistrationView):
    pass


class CompletePasskeyRegistrationView(
    _FreshProofForNewPasskey, CompleteCredentialRegistrationView
):
    pass


def passkey_sign_in_configuration(request):
    """Settings for django-otp-webauthn's script on the login page, or None when it is off."""
    if not settings.PORTAL_PASSKEY_SIGN_IN:
        return None
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
        "beginAuthenticationUrl": reverse("passkey_sign_in_begin"),
        "completeAuthenticationUrl": reverse("passkey_sign_in_complete"),
    }
