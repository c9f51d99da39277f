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
