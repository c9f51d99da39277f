"""Data-subject requests, the proof of each step, and consent.

A request never holds a foreign key that erasure would cascade through: the subject is kept as
a reference ("user:<id>"), which is the pseudonym that security events keep too, so the request
and its evidence outlive the account they are about.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# Article 12(3) GDPR: one month from receipt, extendable by two further months with a reason.
RESPONSE_PERIOD = timedelta(days=30)
MAX_EXTENSION = timedelta(days=60)


class DataSubjectRequest(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export"
        ERASURE = "erasure"

    class Channel(models.TextChoices):
        USER = "user", "user page after re-authentication"
        PARTNER_API = "partner_api", "partner API"
        STAFF = "staff", "staff in the admin"

    class State(models.TextChoices):
        RECEIVED = "received"
        VERIFYING = "verifying"
        AWAITING_APPROVAL = "awaiting_approval", "awaiting approval"
        SCHEDULED = "scheduled"
        RUNNING = "running"
        COMPLETED = "completed"
        REJECTED = "rejected"
        CANCELLED = "cancelled"
        FAILED = "failed"

    kind = models.CharField(max_length=16, choices=Kind)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Cleared when the account is erased; subject_ref stays.",
    )
    subject_ref = models.CharField(max_length=64, db_index=True)
    customer_ids = models.JSONField(
        default=list, blank=True, help_text="Partner customer records that belong to the subject."
    )
    channel = models.CharField(max_length=16, choices=Channel)
    filed_by_ref = models.CharField(max_length=64, help_text="user:<id> or partner:<id>")
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State, default=State.RECEIVED, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(db_index=True)
    extended_until = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    decided_by_ref = models.CharField(max_length=64, blank=True)
    decision_reason = models.TextField(blank=True)
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="End of the grace period in which the user may cancel."
    )
    attempts = models.PositiveIntegerField(default=0)
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    scan_result = models.JSONField(default=dict, blank=True)
    failure = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self):
        return f"{self.kind} request #{self.pk}"

    @property
    def deadline(self):
        return self.extended_until or self.due_at

    @property
    def is_open(self) -> bool:
        return self.state not in {
            self.State.COMPLETED,
            self.State.REJECTED,
            self.State.CANCELLED,
            self.State.FAILED,
        }

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.deadline < timezone.now()


class ErasureIdentifier(models.Model):
    """A former identifier of the subject, kept only until the verification scan is clean.

    The scan has to look for the plaintext (a hash cannot be searched for inside free text), so
    the values live here, in one table the scan skips, and are deleted when the request ends.
    """

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="identifiers"
    )
    kind = models.CharField(max_length=16)  # email, name, phone
    value = models.CharField(max_length=254)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "kind", "value"], name="erasure_id_unique")
        ]

    def __str__(self):
        # Never the value: this shows up in logs and the admin.
        return f"{self.kind} identifier of request #{self.request_id}"


class RequestStep(models.Model):
    """One provider's part of a request; the row is claimed before the work and closed after."""

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    provider = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    runs = models.PositiveIntegerField(default=0, help_text="How many times the work started.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["request_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "provider"], name="request_step_unique")
        ]

    def __str__(self):
        return f"{self.provider} ({self.state})"


class ExportArchive(models.Model):
    """A finished export, stored outside any publicly served folder."""

    request = models.OneToOneField(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="archive"
    )
    file_name = models.CharField(max_length=128)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"export of request #{self.request_id}"


class ConsentPurpose(models.Model):
    """Something we ask permission for; a new version of its text asks again."""

    slug = models.SlugField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    description = models.TextField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="consent_purpose_version")
        ]

    def __str__(self):
        return f"{self.slug} v{self.version}"


class ConsentRecord(models.Model):
    """One grant or withdrawal, never changed; the latest row per purpose is the answer."""

    class Source(models.TextChoices):
        PRIVACY_PAGE = "privacy_page"
        PARTNER_API = "partner_api"
        STAFF = "staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_records"
    )
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="+")
    granted = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=Source)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["user", "purpose", "-recorded_at"])]

    def __str__(self):
        return (
            f"{'grant' if self.granted else 'withdrawal'} of {self.purpose_id} by {self.user_id}"
        )
