"""Changes to the social accounts linked to a portal account."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.exceptions import PermissionDenied

from apps.accounts.identifiers import normalize_email


def link_social_account(request, sociallogin, *, user) -> SocialAccount:
    """Link a parked social login to ``user``, who has just proven they own the account.

    The login must carry a provider-verified address that is also a verified address of
    ``user``, and its (provider, subject id) must not belong to anyone yet. The link event is
    written by the ``social_account_added`` receiver, in this transaction.
    """
    provider_addresses = {
        normalize_email(address.email)
        for address in sociallogin.email_addresses
        if address.verified
    }
    own_addresses = set(
        EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )
    if not provider_addresses & own_addresses:
        raise PermissionDenied("the provider's verified address is not one of this account's")

    taken = SocialAccount.objects.filter(
        provider=sociallogin.account.provider, uid=sociallogin.account.uid
    ).exists()
    if taken:
        raise PermissionDenied("this provider account is already linked")

    sociallogin.connect(request, user)
    return sociallogin.account
