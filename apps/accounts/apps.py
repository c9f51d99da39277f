"""The user model, sign-in adapters and the account pages."""

from django.apps import AppConfig

# Event types of second factors and sessions: (type, default severity, default outcome).
MFA_EVENT_TYPES = [
    ("auth.mfa.enabled", "low", "success"),
    ("auth.mfa.disabled", "medium", "success"),
    ("auth.mfa.challenge.success", "info", "success"),
    ("auth.mfa.challenge.failure", "low", "failure"),
    ("auth.mfa.backup_code.used", "low", "success"),
    ("auth.mfa.backup_codes.generated", "low", "success"),
    ("auth.mfa.device.added", "low", "success"),
    ("auth.mfa.device.removed", "medium", "success"),
    ("auth.mfa.locked", "high", "failure"),
    ("auth.mfa.recovered", "high", "success"),
    ("auth.session.revoked", "low", "success"),
]


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from apps.accounts import (
            oidc,  # noqa: F401 - guards partner applications on save
            receivers,  # noqa: F401 - connects the signal receivers
        )
        from apps.accounts.mfa import receivers as mfa_receivers  # noqa: F401 - same
        from apps.siem.events import register_event_type

        for event_type, severity, outcome in MFA_EVENT_TYPES:
            register_event_type(event_type, severity, outcome)
