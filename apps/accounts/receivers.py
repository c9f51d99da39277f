"""Security events for the account lifecycle, fed by Django's and allauth's signals.

The signals fire inside the request that made the change, and every request is one transaction
(ATOMIC_REQUESTS), so each event commits or rolls back together with what it records.
"""

from allauth.account import signals as account_signals
from allauth.account.authentication import get_authentication_records
from allauth.socialaccount import signals as social_signals
from django.contrib import messages
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from apps.accounts.identifiers import normalize_email
from apps.siem.events import Outcome, Severity, emit, register_event_type

register_event_type("auth.social.linked", Severity.LOW, Outcome.SUCCESS)
register_event_type("auth.social.unlinked", Severity.LOW, Outcome.SUCCESS)
register_event_type("auth.social.link_refused", Severity.MEDIUM, Outcome.FAILURE)


@receiver(auth_signals.user_logged_in)
def record_login(sender, request, user, **kwargs):
    emit("auth.login.success", actor=user, details={"method": _login_method(request)})


@receiver(auth_signals.user_login_failed)
def record_login_failure(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the identifier is kept.
    typed = credentials.get("email") or credentials.get("username") or ""
    channel = (
        {"channel": "api"} if request is not None and request.path.startswith("/api/") else {}
    )
    record_failed_login(typed, **channel)


def record_failed_login(typed: str, **details) -> None:
    """The one auth.login.failure event of a refused login, web or API, wrong or locked."""
    # Folded the same way the login itself folds it, so counting and reading agree.
    identifier = normalize_email(typed)
    # Events are append-only, so an address written into one could never be erased. When the
    # identifier is an account's address, the event names the account's reference instead (the
    # pseudonym erasure leaves behind); only identifiers of no account are kept as typed.
    owner = _account_of(identifier)
    if owner is not None:
        emit("auth.login.failure", subject=owner, details={"identifier": owner, **details})
    else:
        emit("auth.login.failure", details={"identifier": identifier, **details})


def _account_of(identifier: str) -> str | None:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    if not identifier:
        return None
    user_id = (
        EmailAddress.objects.filter(email__iexact=identifier)
        .values_list("user_id", flat=True)
        .first()
        or get_user_model().objects.filter(email=identifier).values_list("pk", flat=True).first()
    )
    return f"user:{user_id}" if user_id else None


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


@receiver(account_signals.password_changed)
def offer_to_end_other_sessions(sender, request, user, **kwargs):
    if request is not None:
        messages.info(
            request,
            "Your password was changed. If you think someone else knew it, sign out your "
            "other sessions on the Sessions page.",
            fail_silently=True,
        )


@receiver(account_signals.password_reset)
def record_password_reset(sender, request, user, **kwargs):
    emit("auth.password.reset", actor=user)


@receiver(social_signals.social_account_added)
def record_social_link(sender, request, sociallogin, **kwargs):
    emit(
        "auth.social.linked", actor=sociallogin.user, details=_social_details(sociallogin.account)
    )


@receiver(social_signals.social_account_removed)
def record_social_unlink(sender, request, socialaccount, **kwargs):
    emit("auth.social.unlinked", actor=socialaccount.user, details=_social_details(socialaccount))


def _social_details(account) -> dict:
    # The subject id at the provider identifies the link; the provider's profile data stays out.
    return {"provider": account.provider, "uid": account.uid}


# allauth's name for a first factor, and how the event writes it.
_FIRST_FACTOR_NAMES = {"password": "password", "code": "login-code"}


def _login_method(request) -> str:
    """How the user proved who they are, as far as this login tells.

    allauth keeps a record of each authentication step in the session. The last first-factor
    step of this login names the method: "password", "social:<provider id>" or "passkey"
    (a passwordless WebAuthn step). A second factor ("mfa" with a type) is not the method.
    """
    if request is None:
        return "password"
    if request.path.startswith("/admin/"):
        return "admin-password"

    user = getattr(request, "user", None)
    for record in reversed(get_authentication_records(request, user)):
        method = record.get("method")
        if method == "socialaccount":
            return f"social:{record.get('provider', 'unknown')}"
        if method == "mfa" and record.get("passwordless"):
            return "passkey"
        if method in _FIRST_FACTOR_NAMES:
            return _FIRST_FACTOR_NAMES[method]
    return "password"
