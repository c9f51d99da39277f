from django.db import models


class OutboundEmail(models.Model):
    """A message waiting for, or past, delivery by the mail task.

    Messages go through this table so that the task is handed an id and never the message
    itself: account emails carry one-time links, which must not sit in a broker queue. The body
    is wiped once the message is sent.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.JSONField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "outbound email"

    def __str__(self):
        return f"email #{self.pk} ({self.state})"


class KeyRotation(models.Model):
    """Progress of re-encrypting one model's rows to the current primary keys.

    ``target`` names the primary key of every keyset the model uses, so a new primary key
    starts a new rotation, and rerunning an unfinished one resumes after ``cursor``.
    """

    class State(models.TextChoices):
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"

    model_label = models.CharField(max_length=100)
    target = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=State, default=State.RUNNING)
    cursor = models.CharField(max_length=64, blank=True)
    rows_seen = models.PositiveBigIntegerField(default=0)
    rows_rewritten = models.PositiveBigIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_label", "target"], name="core_rotation_once")
        ]

    def __str__(self):
        return f"rotation of {self.model_label} to {self.target} ({self.state})"


class RetentionRecord(models.Model):
    """What one run of the retention task did to one field (or to whole rows)."""

    class Action(models.TextChoices):
        ANONYMISED = "anonymised"
        DELETED = "deleted"

    ran_at = models.DateTimeField(auto_now_add=True, db_index=True)
    model_label = models.CharField(max_length=100)
    field_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=16, choices=Action)
    rows = models.PositiveIntegerField()
    cutoff = models.DateTimeField()

    class Meta:
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return f"{self.action} {self.rows} rows of {self.model_label}.{self.field_name}"
