"""The user model, sign-in adapters and the account pages."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from apps.accounts import receivers  # noqa: F401 - connects the signal receivers
