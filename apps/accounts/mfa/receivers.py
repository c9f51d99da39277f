"""Security events for passkeys, which django-otp-webauthn's own views create."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django_otp_webauthn.models import WebAuthnCredential

from apps.accounts.mfa.services import confirmed_devices
from apps.siem.events import emit


@receiver(post_save, sender=WebAuthnCredential)
def record_passkey_added(sender, instance, created, **kwargs):
    if not created:
        return
    emit("auth.mfa.device.added", actor=instance.user, details={"device": "passkey"})
    if len(confirmed_devices(instance.user)) == 1:
        emit("auth.mfa.enabled", actor=instance.user, details={"device": "passkey"})
