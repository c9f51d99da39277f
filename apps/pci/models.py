from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.pci.masking import mask_card
from apps.siem.models import SecurityEvent

# How a card token is named in security events ("card:tok_..."), never by its number.
EVENT_SUBJECT_PREFIX = "card:"


class CardToken(models.Model):
    """A card held by the vault: a random token standing in for a number kept only encrypted.

    The number itself is in ``pan_ciphertext`` (AES-256-GCM under the card keyset, bound to the
    token as associated data so a ciphertext moved to another row fails to decrypt). What may
    be shown, brand and last four, is kept beside it in the clear. ``fingerprint`` is a keyed
    hash of owner and number, so the same card tokenised twice for one owner is found again,
    while the same card of two owners cannot be linked.
    """

    class Format(models.TextChoices):
        OPAQUE = "opaque", "Opaque (tok_...)"
        FORMAT_PRESERVING = "format_preserving", "Format-preserving (digits, last four kept)"

    token = models.CharField(max_length=40, unique=True)
    token_format = models.CharField(max_length=24, choices=Format, default=Format.OPAQUE)
    pan_ciphertext = models.BinaryField(editable=False)
    # Unique over the whole table: owner and number are both part of what it is computed from.
    fingerprint = models.CharField(max_length=80, unique=True, editable=False)
    brand = models.CharField(max_length=16)
    last_four = models.CharField(max_length=4)
    expiry_month = models.PositiveSmallIntegerField()
    expiry_year = models.PositiveSmallIntegerField()

    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="card_tokens",
    )
    owner_partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="card_tokens",
    )

    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=128, help_text="Who tokenised it, as in events")
    created_via = models.CharField(max_length=16, help_text="web, api, admin or task")
    renewed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True, help_text="Deleted by the purge after this")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_user__isnull=False, owner_partner__isnull=True)
                | Q(owner_user__isnull=True, owner_partner__isnull=False),
                name="card_token_has_one_owner",
            ),
        ]

    def __str__(self):
        return self.masked

    @property
    def masked(self) -> str:
        return mask_card(self.brand, self.last_four)

    @property
    def expiry(self) -> str:
        return f"{self.expiry_month:02d}/{self.expiry_year % 100:02d}"

    @property
    def owner(self):
        return self.owner_user or self.owner_partner

    @property
    def event_subject(self) -> str:
        return f"{EVENT_SUBJECT_PREFIX}{self.token}"


class CardAccessEventManager(models.Manager):
    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(event_type="data.access", subject__startswith=EVENT_SUBJECT_PREFIX)
        )


class CardAccessEvent(SecurityEvent):
    """The vault access log: every detokenisation and every refused attempt, as events."""

    objects = CardAccessEventManager()

    class Meta:
        proxy = True
        verbose_name = "vault access"
        verbose_name_plural = "vault access log"
