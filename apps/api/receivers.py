"""Account changes that must end a user's token sessions at once.

A password change also breaks each session's credential hash, and a deactivated user is
refused on every request; ending the rows as well makes the session list tell the truth.
"""

from django.apps import apps
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.api.models import TokenSession
from apps.api.services import end_token_sessions_of
from apps.siem.events import Severity, register_event_type

register_event_type("auth.token.reuse", Severity.HIGH, "failure")


@receiver(post_save, sender="accounts.User", dispatch_uid="api_end_sessions_on_deactivation")
def end_sessions_of_deactivated_user(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        end_token_sessions_of(instance, reason=TokenSession.EndReason.DEACTIVATED)


def end_sessions_on_second_factor_change(sender, instance, created=True, **kwargs):
    from django_otp.models import Device

    # Devices are saved on every use (counters, last step); only adding or removing one is a
    # change of the second factor. The type is checked first: this hears every model's saves
    # and deletes, and reading `user` of any other row would cost a query per row.
    if not isinstance(instance, Device) or not created:
        return
    user = getattr(instance, "user", None)
    if user is not None:
        end_token_sessions_of(user, reason=TokenSession.EndReason.SECOND_FACTOR_CHANGED)


if apps.is_installed("django_otp"):
    # Devices are many models (TOTP, backup codes, passkeys): listen to all, filter by type.
    post_save.connect(end_sessions_on_second_factor_change, dispatch_uid="api_otp_saved")
    post_delete.connect(end_sessions_on_second_factor_change, dispatch_uid="api_otp_deleted")
