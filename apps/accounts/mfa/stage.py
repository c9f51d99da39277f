"""The second-factor stage of allauth's login.

allauth runs its login stages after the first factor of every kind of login: password, social
account, passkey and the login that follows a password reset. This stage, appended last by the
account adapter, holds the login back until the user has passed a second factor. Nothing is
authenticated until then: the session carries only allauth's stashed, half-finished login,
which expires after ACCOUNT_LOGIN_TIMEOUT.

A user who must use MFA but has no device yet passes this stage; the middleware then keeps them
on the enrolment page until they have one. So does a sign-in with a passkey alone: the passkey
verified its user (PIN or biometric) on the device that holds it, which is both factors.
"""

from allauth.account.stages import LoginStage
from allauth.core.internal.httpkit import headed_redirect_response

from apps.accounts.mfa.services import has_second_factor

STAGE_KEY = "portal_second_factor"
# Set in a login's state by the passkey sign-in, and only there (apps/accounts/mfa/passkeys.py).
PASSKEY_SIGN_IN = "passkey_sign_in"


class SecondFactorStage(LoginStage):
    key = STAGE_KEY
    urlname = "mfa_authenticate"

    def handle(self):
        if self.login.user is None or not has_second_factor(self.login.user):
            return None, True
        if self.login.state.get(PASSKEY_SIGN_IN):
            return None, True
        return headed_redirect_response("mfa_authenticate"), True
