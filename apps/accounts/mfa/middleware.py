"""Keep signed-in sessions that lack a required second factor away from everything else."""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from apps.accounts.mfa.services import has_second_factor
from apps.accounts.mfa_policy import user_must_use_mfa
from apps.accounts.stepup import mfa_verified, second_factor_overdue

# Pages a session without its second factor may still open: the ones that let it get one,
# signing out, and static files.
_OPEN_URLNAMES = ("mfa_totp_enrol", "mfa_reauthenticate", "account_logout")
_OPEN_PREFIXES = ("/static/", "/healthz")


class SecondFactorRequiredMiddleware:
    """Send a signed-in but unverified session to verify or to enrol before anything else.

    Two kinds of session get here: the user of one that has a device but was signed in without
    it (a device added in another session, or a way in that skipped the stage), and a user who
    must use MFA but has never enrolled. The first is asked for a code, the second to enrol.
    A verified session also counts as unverified while a playbook's demand for a fresh second
    factor is newer than the session's last one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or self._is_open(request.path):
            return self.get_response(request)
        if mfa_verified(request) and not second_factor_overdue(request):
            return self.get_response(request)

        if has_second_factor(user):
            return self._send_to("mfa_reauthenticate", request)
        if user_must_use_mfa(user):
            return self._send_to("mfa_totp_enrol", request)
        return self.get_response(request)

    @staticmethod
    def _is_open(path):
        if path.startswith(_OPEN_PREFIXES):
            return True
        return any(path == reverse(name) for name in _OPEN_URLNAMES)

    @staticmethod
    def _send_to(urlname, request):
        if request.path.startswith("/api/"):
            # API clients cannot follow a page; they get a plain refusal.
            return JsonResponse({"detail": "A second factor is required."}, status=403)
        return redirect(f"{reverse(urlname)}?{urlencode({'next': request.get_full_path()})}")
