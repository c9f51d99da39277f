"""Personal data of the accounts app: account, addresses, profile, second factors, social."""

from allauth.account.models import EmailAddress
from django.apps import apps

from apps.accounts.models import User
from apps.gdpr.registry import (
    ORDER_ACCOUNT,
    ORDER_CREDENTIALS,
    ORDER_EMAIL_ADDRESSES,
    ORDER_PROFILE,
    Provider,
    Subject,
    register,
)
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


@register
class ProfileProvider(Provider):
    """Encrypted personal details; deleting the row deletes the only ciphertext."""

    name = "profile"
    order = ORDER_PROFILE
    models = ("accounts.Profile",)

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        from apps.accounts.models import Profile

        profile = Profile.objects.filter(user_id=subject.user_id).first()
        if profile is None:
            return {"profile": []}
        row = {
            name: getattr(profile, name)
            for name in ("first_name", "last_name", "phone", "date_of_birth", "address",
                         "national_id")
        }  # fmt: skip
        if row["date_of_birth"] is not None:
            row["date_of_birth"] = row["date_of_birth"].isoformat()
        return {"profile": [row]}

    def erase(self, subject: Subject) -> dict:
        from apps.accounts.models import Profile

        deleted, _ = Profile.objects.filter(user_id=subject.user_id).delete()
        return {"deleted": deleted}


@register
class SecondFactorProvider(Provider):
    name = "second_factors"
    order = ORDER_CREDENTIALS + 20
    models = (
        "accounts.BackupCodeDevice",
        "accounts.BackupCode",
        "accounts.SecondFactorFailure",
        "accounts.SecondFactorLock",
        "otp_totp.TOTPDevice",
        "django_otp_webauthn.WebAuthnCredential",
        "django_otp_webauthn.WebAuthnUserHandle",
    )

    def _device_models(self):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from apps.accounts.models import BackupCodeDevice

        devices = [TOTPDevice, BackupCodeDevice]
        if apps.is_installed("django_otp_webauthn"):
            from django_otp_webauthn.models import WebAuthnCredential

            devices.append(WebAuthnCredential)
        return devices

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        devices = []
        for model in self._device_models():
            for name, confirmed in model.objects.filter(user_id=subject.user_id).values_list(
                "name", "confirmed"
            ):
                devices.append({"kind": model._meta.model_name, "name": name,
                                "confirmed": confirmed})  # fmt: skip
        return {"second_factor_devices": devices}

    def erase(self, subject: Subject) -> dict:
        from apps.accounts.models import SecondFactorFailure, SecondFactorLock

        deleted = 0
        # Backup codes cascade with their device; secrets go with the rows.
        extra = []
        if apps.is_installed("django_otp_webauthn"):
            from django_otp_webauthn.models import WebAuthnUserHandle

            extra.append(WebAuthnUserHandle)
        for model in [*self._device_models(), SecondFactorFailure, SecondFactorLock, *extra]:
            count, _ = model.objects.filter(user_id=subject.user_id).delete()
            deleted += count
        return {"deleted": deleted}


@register
class SocialAccountProvider(Provider):
    name = "social_accounts"
    order = ORDER_CREDENTIALS + 30
    models = ("socialaccount.SocialAccount", "socialaccount.SocialToken")

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        from allauth.socialaccount.models import SocialAccount

        accounts = SocialAccount.objects.filter(user_id=subject.user_id).order_by("id")
        return {
            "social_accounts": rows(
                accounts, "provider", "uid", "last_login", "date_joined", "extra_data"
            )
        }

    def erase(self, subject: Subject) -> dict:
        from allauth.socialaccount.models import SocialAccount

        # Tokens cascade with their account.
        deleted, _ = SocialAccount.objects.filter(user_id=subject.user_id).delete()
        return {"deleted": deleted}
