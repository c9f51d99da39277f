"""The user model, sign-in adapters and the account pages."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from apps.accounts import (
            oidc,  # noqa: F401 - guards partner applications on save
            receivers,  # noqa: F401 - connects the signal receivers
        )
