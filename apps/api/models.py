import uuid

from django.conf import settings
from django.db import models


class TokenSession(models.Model):
    """One sign-in of a user client: the family of every JWT issued from one password login.

    Each access token names its session (`sid`), and every request checks the row, so ending
    the session stops all of its tokens at once. Only the newest refresh token of the family is
    accepted (`refresh_jti`); presenting an older one means it was copied, and ends the session.
    """

    # A random token id and a hash, both computed here: the GDPR scan need not search them.
    gdpr_scan_skips = ("refresh_jti", "credential_hash")

    class EndReason(models.TextChoices):
        LOGOUT = "logout"
        REFRESH_REUSE = "refresh_reuse"
        PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
        SECOND_FACTOR_CHANGED = "second_factor_changed"
        DEACTIVATED = "deactivated"
        REVOKED = "revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_sessions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_jti = models.CharField(max_length=64)
    # The user's session hash when the session began: it changes with the password, so a
    # password change anywhere (reset, admin, API) ends every token session of the user.
    credential_hash = models.CharField(max_length=128)
    mfa_verified = models.BooleanField(default=False)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"], name="tokensession_user_open")]

    def __str__(self):
        return f"token session {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
