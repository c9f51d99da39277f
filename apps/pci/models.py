from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.classification import RetentionAction, classified, internal, restricted
from apps.pci.masking import mask_card
from apps.siem.models import SecurityEvent

# How a card token is named in security events ("card:tok_..."), never by its number.
EVENT_SUBJECT_PREFIX = "card:"
# A Tink AES-GCM ciphertext: version byte 1, 4-byte key id, 12-byte nonce, 16-byte tag.
_TINK_PREFIX_VERSION = 1
_SHORTEST_CIPHERTEXT = 1 + 4 + 12 + 16


class CardCiphertextField(models.BinaryField):
    """A card number as the vault seals it (``apps.pci.keys``, the ``pci`` keyset), and nothing
    else: a value that is not shaped like a Tink ciphertext is refused before it is written, so
    a number can never reach the table in the clear by mistake.

    ``ciphertext_keyset`` tells the classification check that this column is encrypted.
    """

    ciphertext_keyset = "pci"

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is not None:
            data = bytes(value)
            if len(data) < _SHORTEST_CIPHERTEXT or data[0] != _TINK_PREFIX_VERSION:
                # The message never repeats the value: it may be the very number refused.
                raise ValueError("refusing to store a card number that is not encrypted")
        return super().get_db_prep_value(value, connection, prepared)


@classified(
    personal=True,
    subject="owner_user",
    # The period restarts when a card is tokenised again or renewed (``expires_at``); the
    # vault's hourly purge enforces it and records each card it deletes.
    retention_enforced_by="apps.pci.tasks.purge_expired_card_tokens",
    fields={
        "id": internal(),
        "token": internal(),
        "token_format": internal(),
        # Read only by detokenisation, which records every reading as a data.access event.
        "pan_ciphertext": restricted(
            access_logged=True,
            retention_days=settings.PCI_CARD_RETENTION_DAYS,
            retention_action=RetentionAction.DELETE,
        ),
        # A keyed hash of owner and number: finds a card again, reveals nothing without the key.
        "fingerprint": internal(),
        # Truncated to the last four, the number is no longer cardholder data (PCI DSS 3.4).
        "brand": internal(),
        "last_four": internal(),
        "expiry_month": internal(),
        "expiry_year": internal(),
        "owner_user": internal(),
        "owner_partner": internal(),
        "created_at": internal(),
        "created_by": internal(),
        "created_via": internal(),
        "renewed_at": internal(),
        "expires_at": internal(),
    },
)
class CardToken(models.Model):
    """A card held by the vault: a random token standing in for a number kept only encrypted.

    The number itself is in ``pan_ciphertext`` (AES-256-GCM under the card keyset, bound to the
    token as associated data so a ciphertext moved to another row fails to decrypt). What may
    be shown, brand and last four, is kept beside it in the clear. ``fingerprint`` is a keyed
    hash of owner and number, so the same card tokenised twice for one owner is found again,
    while the same card of two owners cannot be linked.
    """

    # Drawn at random and computed by the vault, never written by a caller: the GDPR scan
    # need not search them (the owner's identifiers cannot be in them).
    gdpr_scan_skips = ("token", "fingerprint")

    class Format(models.TextChoices):
        OPAQUE = "opaque", "Opaque (tok_...)"
        FORMAT_PRESERVING = "format_preserving", "Format-preserving (digits, last four kept)"

    token = models.CharField(max_length=40, unique=True)
    token_format = models.CharField(max_length=24, choices=Format, default=Format.OPAQUE)
    pan_ciphertext = CardCiphertextField(editable=False)
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
