"""Personal data of the accounts app: the user row and its email addresses."""

from allauth.account.models import EmailAddress

from apps.accounts.models import User
from apps.gdpr.registry import ORDER_ACCOUNT, ORDER_EMAIL_ADDRESSES, Provider, Subject, register
from apps.gdpr.rows import rows


@register
class EmailAddressProvider(Provider):
    name = "email_addresses"
    order = ORDER_EMAIL_ADDRESSES
    models = ("account.EmailAddress", "account.EmailConfirmation")

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        addresses = EmailAddress.objects.filter(user_id=subject.user_id).order_by("id")
        return {"email_addresses": rows(addresses, "email", "primary", "verified")}

    def erase(self, subject: Subject) -> dict:
        # Confirmations cascade with their address.
        deleted, _ = EmailAddress.objects.filter(user_id=subject.user_id).delete()
        return {"deleted": deleted}


@register
class AccountProvider(Provider):
    name = "account"
    order = ORDER_ACCOUNT
    models = ("accounts.User",)

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        account = User.objects.filter(pk=subject.user_id)
        return {
            "account": rows(
                account, "id", "email", "date_joined", "last_login", "is_active", "is_staff"
            )
        }

    def erase(self, subject: Subject) -> dict:
        # Deleting the row is the erasure: every provider before this one has already removed
        # or pseudonymised what pointed at it, and what cascades now holds nothing of the person.
        deleted, _ = User.objects.filter(pk=subject.user_id).delete()
        return {"deleted": deleted}
