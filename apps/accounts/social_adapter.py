"""The portal's rules for signing in with another identity provider (Google, GitHub, OIDC...).

A social account belongs to a portal account only through the pair (provider, subject id)
stored when the link was made. The address a provider reports is a claim about the person,
not proof that they own a portal account with that address, so:

* a login whose (provider, subject id) is already linked signs in that account, and goes
  through the same login stages (email verification, second factor) as a password login;
* a login whose address matches an existing account but is not verified by the provider is
  refused: it neither signs in nor links;
* a login whose verified address matches an existing account is parked in the session while
  the person signs in to that account the usual way (password, then second factor); only
  then, on a confirmation page, is the provider linked;
* everyone else gets a new account, verified by mail unless the provider verified the address.
"""

import time

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from apps.accounts.identifiers import normalize_email
from apps.siem.events import emit

PENDING_LINK_SESSION_KEY = "accounts:social:pending-link"
# Long enough to type a password and a code, short enough that a forgotten tab goes stale.
PENDING_LINK_MAX_AGE_SECONDS = 600

# Said the same way whether or not an account has the address, so that a provider account
# with someone else's address learns nothing from the answer.
UNVERIFIED_EMAIL_MESSAGE = (
    "{provider} did not confirm that this email address is yours, so it cannot be used to sign"
    " in here. If you already have an account, sign in to it and link {provider} from your"
    " connected accounts page."
)
LINK_PENDING_MESSAGE = (
    "An account with this email address already exists. Sign in to it to link {provider}."
)


class ProviderNotConfigured(SocialApp.DoesNotExist, Http404):
    """A provider with no client id and secret: its URLs exist but lead nowhere.

    Still a DoesNotExist, which allauth catches where it lists providers; and an Http404, so
    that a request to the provider's login or callback URL gets a 404 instead of a 500.
    """


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request, provider, client_id=None):
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise ProviderNotConfigured from None

    def pre_social_login(self, request, sociallogin):
        """Decide what an incoming social login may do before allauth acts on it."""
        # Found by (provider, subject id): the link was proven when it was made. Asked this
        # way rather than through is_existing, which is also true when allauth matched the
        # user by address (should email authentication ever be switched on).
        if sociallogin.account.pk is not None:
            return
        # A signed-in user adding a provider from the connected accounts page.
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            return

        verified, unverified = _matching_addresses(sociallogin)
        provider = sociallogin.provider.name

        # A new person: allauth signs them up (and mails a link if the address is unverified).
        if not verified and not unverified:
            return

        if not verified:
            emit(
                "auth.social.link_refused",
                subject=unverified[0].user,
                details={"provider": sociallogin.account.provider, "reason": "unverified-email"},
            )
            messages.error(request, UNVERIFIED_EMAIL_MESSAGE.format(provider=provider))
            raise ImmediateHttpResponse(redirect("account_login"))

        # The provider vouches for the address, which is not yet proof of owning the account
        # here: park the login and ask for that account's own sign-in first.
        park_social_login(request, sociallogin)
        messages.info(request, LINK_PENDING_MESSAGE.format(provider=provider))
        login_url = reverse("account_login")
        next_url = reverse("social_link_confirm")
        raise ImmediateHttpResponse(redirect(f"{login_url}?{urlencode({'next': next_url})}"))


def _matching_addresses(sociallogin) -> tuple[list[EmailAddress], list[EmailAddress]]:
    """Existing accounts' addresses that this login's addresses match, verified or not."""
    verified, unverified = [], []
    for address in sociallogin.email_addresses:
        email = normalize_email(address.email)
        existing = EmailAddress.objects.filter(email=email).select_related("user").first()
        if existing is None:
            continue
        (verified if address.verified else unverified).append(existing)
    return verified, unverified


def park_social_login(request, sociallogin) -> None:
    request.session[PENDING_LINK_SESSION_KEY] = {
        "sociallogin": sociallogin.serialize(),
        "at": time.time(),
    }


def take_parked_social_login(request, *, keep: bool = False) -> SocialLogin | None:
    """The parked login, if there is a fresh one; removed from the session unless ``keep``."""
    parked = (
        request.session.get(PENDING_LINK_SESSION_KEY)
        if keep
        else request.session.pop(PENDING_LINK_SESSION_KEY, None)
    )
    if not isinstance(parked, dict):
        return None
    if time.time() - parked.get("at", 0) > PENDING_LINK_MAX_AGE_SECONDS:
        request.session.pop(PENDING_LINK_SESSION_KEY, None)
        return None
    try:
        return SocialLogin.deserialize(parked["sociallogin"])
    except (KeyError, ValueError, TypeError):
        request.session.pop(PENDING_LINK_SESSION_KEY, None)
        return None
