"""Security events for the account lifecycle, fed by Django's and allauth's signals.

The signals fire inside the request that made the change, and every request is one transaction
(ATOMIC_REQUESTS), so each event commits or rolls back together with what it records.
"""

from allauth.account import signals as account_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from apps.accounts.identifiers import normalize_email
from apps.siem.events import emit


@receiver(auth_signals.user_logged_in)
def record_login(sender, request, user, **kwargs):
    emit("auth.login.success", actor=user, details={"method": _login_method(request)})


@receiver(auth_signals.user_login_failed)
def record_login_failure(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the identifier is kept,
    # folded the same way the login itself folds it, so counting and reading agree.
    identifier = normalize_email(credentials.get("email") or credentials.get("username") or "")
    emit("auth.login.failure", details={"identifier": identifier})


@receiver(auth_signals.user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        emit("auth.logout", actor=user)


@receiver(account_signals.user_signed_up)
def record_signup(sender, request, user, **kwargs):
    emit("auth.signup", actor=user)


@receiver(account_signals.email_confirmed)
def record_email_confirmation(sender, request, email_address, **kwargs):
    emit("auth.email.confirmed", actor=email_address.user)


@receiver(account_signals.email_added)
def record_email_added(sender, request, user, email_address, **kwargs):
    emit("auth.email.added", actor=user)


@receiver(account_signals.email_removed)
def record_email_removed(sender, request, user, email_address, **kwargs):
    emit("auth.email.removed", actor=user)


@receiver(account_signals.password_changed)
@receiver(account_signals.password_set)
def record_password_change(sender, request, user, **kwargs):
    emit("auth.password.changed", actor=user)


@receiver(account_signals.password_reset)
def record_password_reset(sender, request, user, **kwargs):
    emit("auth.password.reset", actor=user)


def _login_method(request) -> str:
    """How the user proved who they are, as far as this login tells."""
    if request is not None and request.path.startswith("/admin/"):
        return "admin-password"
    return "password"
