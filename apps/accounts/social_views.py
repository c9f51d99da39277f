"""The page that finishes linking a social login to the account it matched by address."""

import time

from allauth.account.authentication import get_authentication_records
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from apps.accounts.social_adapter import take_parked_social_login
from apps.accounts.social_services import link_social_account

# How recent the proof of the existing account must be; a session signed in yesterday does
# not prove that the person at the keyboard now owns it.
PROOF_MAX_AGE_SECONDS = 300
# Ways of signing in that prove the existing account itself (not another provider's say-so).
_ACCOUNT_PROOF_METHODS = {"password", "mfa"}


@login_required
@require_http_methods(["GET", "POST"])
def confirm_social_link(request):
    sociallogin = take_parked_social_login(request, keep=request.method == "GET")
    if sociallogin is None:
        messages.info(request, "There is no sign-in waiting to be linked, or it has expired.")
        return redirect("socialaccount_connections")

    if not _proved_account_recently(request):
        here = reverse("social_link_confirm")
        return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': here})}")

    provider = sociallogin.provider.name
    if request.method == "GET":
        return render(request, "account/social_link_confirm.html", {"provider": provider})

    try:
        link_social_account(request, sociallogin, user=request.user)
    except PermissionDenied:
        messages.error(request, f"This {provider} account cannot be linked to your account.")
    else:
        messages.success(request, f"{provider} is now linked. You can use it to sign in.")
    return redirect("socialaccount_connections")


def _proved_account_recently(request) -> bool:
    now = time.time()
    return any(
        record.get("method") in _ACCOUNT_PROOF_METHODS
        and now - record.get("at", 0) < PROOF_MAX_AGE_SECONDS
        for record in get_authentication_records(request, request.user)
    )
