from allauth.account.adapter import get_adapter
from allauth.account.forms import AddEmailForm
from allauth.account.internal.userkit import filter_users_by_email

from apps.accounts.identifiers import normalize_email


class PortalAddEmailForm(AddEmailForm):
    """Refuse, visibly, an address that already belongs to another account.

    allauth's enumeration protection would instead attach an unverified copy of the address to
    this account. That copy is useless (it can never be verified while the other account holds
    it) and it leaves two accounts naming one address. A signed-in user learning that an
    address is taken is a smaller leak than that, and sign-up, login and reset still reveal
    nothing about which addresses exist.
    """

    def clean_email(self):
        address = normalize_email(self.data.get("email", ""))
        if any(user.pk != self.user.pk for user in filter_users_by_email(address)):
            raise get_adapter().validation_error("email_taken")
        return super().clean_email()
