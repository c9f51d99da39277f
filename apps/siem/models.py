from django.db import models


class SecurityEvent(models.Model):
    """One thing that happened and matters for security: written once, never changed.

    Actor and subject are stored as references ("user:42", "client:abc") rather than foreign
    keys, so that deleting or erasing a user never rewrites the history of what they did.
    """

    class Severity(models.TextChoices):
        INFO = "info"
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"
        CRITICAL = "critical"

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        FAILURE = "failure"
        UNKNOWN = "unknown"

    occurred_at = models.DateTimeField(db_index=True)
    event_type = models.CharField(max_length=64, db_index=True)
    severity = models.CharField(max_length=16, choices=Severity, default=Severity.INFO)
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.UNKNOWN)
    actor = models.CharField(max_length=128, blank=True, db_index=True)
    subject = models.CharField(max_length=128, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["event_type", "occurred_at"])]

    def __str__(self):
        return f"{self.event_type} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
