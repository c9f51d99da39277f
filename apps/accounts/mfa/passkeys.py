"""Passkeys (django-otp-webauthn) as the second step of a login.

The package's own authentication views either verify a session that is already signed in or
sign someone in with the passkey alone. At the second-factor stage there is neither: the user
is known only to allauth's stashed, half-finished login. These views take the user from there
and finish the login through the stage, like a TOTP or backup code would.
"""

from allauth.account.stages import LoginStageController
from django.conf import settings
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    CompleteCredentialAuthenticationView,
)

from apps.accounts.mfa import services
from apps.accounts.mfa.stage import STAGE_KEY


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
