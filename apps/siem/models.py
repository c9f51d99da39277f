import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

# The columns of an event that the chain covers. The sealer may fill the chain columns of a row
# once; nothing may change these afterwards, or before, on PostgreSQL.
EVENT_CONTENT_COLUMNS = (
    "occurred_at", "event_type", "severity", "outcome", "actor", "subject", "service", "ip",
    "user_agent", "request_id", "details",
)  # fmt: skip
_CONTENT_CHANGED = " OR ".join(
    f'OLD."{c}" IS DISTINCT FROM NEW."{c}"' for c in EVENT_CONTENT_COLUMNS
)


class SecurityEvent(models.Model):
    """One thing that happened and matters for security: written once, never changed.

    Actor and subject are stored as references ("user:42", "client:abc") rather than foreign
    keys, so that deleting or erasing a user never rewrites the history of what they did.

    Writers only insert. A sealing task later gives each event its place in the hash chain
    (``chain_seq``) and the hashes; see apps/siem/chain.py for why writers never wait for it.
    """

    # Written by the sealing task alone, as hex digests: the GDPR scan need not search them.
    gdpr_scan_skips = ("content_hash", "prev_hash", "chain_hash")
    # An event enters the GDPR scan's trigram index when it is sealed, not when it is written:
    # the sealer rewrites every new row within seconds anyway, and the trigram entries then
    # cost the writer nothing (the request that writes the event waits for its insert). The
    # scan finds the unsealed few through siem_unsealed (apps/gdpr/scan.py).
    gdpr_scan_indexed_once_set = "chain_seq"

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
    # Found through the (event_type, occurred_at) index below; one of its own only cost writes.
    event_type = models.CharField(max_length=64)
    severity = models.CharField(max_length=16, choices=Severity, default=Severity.INFO)
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.UNKNOWN)
    # Indexed below for equality (a person's events, a card's accesses) only: the pattern twins
    # that db_index adds on PostgreSQL served no query and cost every insert.
    actor = models.CharField(max_length=128, blank=True)
    subject = models.CharField(max_length=128, blank=True)
    service = models.CharField(max_length=64, blank=True, default="portal")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    chain_seq = models.BigIntegerField(null=True, blank=True, unique=True)
    content_hash = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["actor"], name="siem_event_actor"),
            models.Index(fields=["subject"], name="siem_event_subject"),
            models.Index(fields=["event_type", "occurred_at"]),
            models.Index(fields=["id"], condition=Q(chain_seq__isnull=True), name="siem_unsealed"),
        ]
        triggers = [
            pgtrigger.Protect(name="refuse_deletes", operation=pgtrigger.Delete),
            # The sealer fills the chain columns of an unsealed row exactly once; any other
            # change, or any change to a sealed row, is refused.
            pgtrigger.Protect(
                name="refuse_updates",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f'OLD."chain_hash" <> \'\' OR OLD."id" IS DISTINCT FROM NEW."id" OR '
                    f"{_CONTENT_CHANGED}"
                ),
            ),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.event_type} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class ChainState(models.Model):
    """The head of the hash chain: one row, locked by the sealer while it extends the chain.

    It also anchors the end of the chain, so that removing the newest sealed events is seen.
    """

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verification = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return f"chain head at #{self.last_seq}"


class EventPurge(models.Model):
    """The record a retention purge leaves: which prefix of the chain it removed, and by whom."""

    purged_at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=128)
    older_than = models.DateTimeField()
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    removed = models.PositiveIntegerField()
    last_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-last_seq"]
        triggers = [
            pgtrigger.Protect(name="purges_append_only",
                              operation=pgtrigger.Update | pgtrigger.Delete),
        ]  # fmt: skip

    def __str__(self):
        return f"purge of #{self.first_seq}-#{self.last_seq}"


# --- Detection ----------------------------------------------------------------------------


class DetectionRule(models.Model):
    """A Sigma rule, or a Sigma collection of base rules and one correlation, with a playbook."""

    class Action(models.TextChoices):
        BLOCK_ADDRESS = "block_address"
        RATE_LIMIT_ADDRESS = "rate_limit_address"
        LOCK_ACCOUNT = "lock_account"
        END_SESSIONS = "end_sessions"
        FORCE_PASSWORD_RESET = "force_password_reset"  # noqa: S105 - an action name
        REQUIRE_SECOND_FACTOR = "require_second_factor"
        ALERT_SECURITY_TEAM = "alert_security_team"
        NOTIFY_ACCOUNT_OWNER = "notify_account_owner"

    name = models.SlugField(max_length=100, unique=True)
    sigma_yaml = models.TextField(
        help_text="Sigma YAML: one rule, or base rules and a correlation separated by ---."
    )
    enabled = models.BooleanField(default=True)
    severity = models.CharField(
        max_length=16, choices=SecurityEvent.Severity, default=SecurityEvent.Severity.MEDIUM
    )
    playbook = models.JSONField(
        default=list, blank=True, help_text="Actions run when the rule fires, in order."
    )
    playbook_options = models.JSONField(
        default=dict, blank=True, help_text='For example {"block_minutes": 60}.'
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CorrelationEntry(models.Model):
    """One event counted in a correlation window; kept in the database so a restart loses none."""

    rule = models.ForeignKey(DetectionRule, on_delete=models.CASCADE)
    group_key = models.CharField(max_length=255)
    value = models.CharField(max_length=255, blank=True)
    event_id = models.BigIntegerField()
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "group_key", "event_id"], name="siem_correlation_once"
            )
        ]
        indexes = [models.Index(fields=["rule", "group_key", "occurred_at"])]

    def __str__(self):
        return f"{self.group_key} event #{self.event_id}"


class ActorCountry(models.Model):
    """A country an actor has logged in from, for the new-country rule."""

    actor = models.CharField(max_length=128)
    country = models.CharField(max_length=8)
    first_seen = models.DateTimeField()
    # The event that first showed the country, so that processing that event again still
    # counts the country as new for it, and for no later event.
    first_event_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["actor", "country"], name="siem_actor_country_once")
        ]

    def __str__(self):
        return f"{self.actor} in {self.country}"


class Incident(models.Model):
    """What a firing rule opens: one open incident per rule and group, fed by later events."""

    class Status(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"
        FALSE_POSITIVE = "false_positive"

    ACTIVE_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED)

    rule = models.ForeignKey(DetectionRule, on_delete=models.PROTECT, null=True, blank=True)
    group_key = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255)
    severity = models.CharField(max_length=16, choices=SecurityEvent.Severity)
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN, db_index=True)
    # Who the incident is assigned to, for display. What the assignee may do on it comes from
    # the object grants apps.siem.incidents.assign() gives and takes back, not from this column.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Assigning grants this person read and write on this incident only.",
    )
    detected_at = models.DateTimeField()
    first_action_at = models.DateTimeField(null=True, blank=True)
    # When a playbook run was last asked for and has not yet finished: the sweep publishes the
    # run again if its task was lost (the broker did not answer) or gave up.
    playbook_requested_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    events = models.ManyToManyField(SecurityEvent, blank=True, related_name="incidents")

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "group_key"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="siem_one_active_incident_per_group",
            )
        ]

    def __str__(self):
        return f"incident #{self.pk}: {self.title}"

    @property
    def time_to_first_action(self):
        if self.first_action_at is None:
            return None
        return self.first_action_at - self.detected_at


class IncidentEntry(models.Model):
    """One line of an incident's timeline."""

    class Kind(models.TextChoices):
        DETECTED = "detected"
        EVENTS = "events"
        ACTION = "action"
        STATUS = "status"
        ASSIGNMENT = "assignment"
        NOTE = "note"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=16, choices=Kind)
    actor = models.CharField(max_length=128, blank=True)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "incident entries"

    def __str__(self):
        return self.text


class PlaybookAction(models.Model):
    """One action of a playbook on one target: the row is the claim that makes it run once."""

    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=32, choices=DetectionRule.Action)
    target = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "action", "target"], name="siem_action_once_per_target"
            )
        ]

    def __str__(self):
        return f"{self.action} {self.target}"


class AddressRestrictionQuerySet(models.QuerySet):
    """Bulk writes make the cached answers stale too (apps/siem/restrictions.py)."""

    def update(self, **kwargs):
        from apps.siem.restrictions import forget_restrictions

        forget_restrictions(self.db)
        return super().update(**kwargs)

    def delete(self):
        from apps.siem.restrictions import forget_restrictions

        forget_restrictions(self.db)
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        from apps.siem.restrictions import forget_restrictions

        forget_restrictions(self.db)
        return super().bulk_create(objs, *args, **kwargs)


class AddressRestriction(models.Model):
    """A client address that is blocked, or held to a request rate, until a given time.

    The middleware reads these through a cache; every write here makes that cache stale, so a
    block applies from the next request on.
    """

    class Kind(models.TextChoices):
        BLOCK = "block"
        RATE_LIMIT = "rate_limit"

    ip = models.GenericIPAddressField(db_index=True)
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.BLOCK)
    until = models.DateTimeField(db_index=True)
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=128, blank=True)

    objects = AddressRestrictionQuerySet.as_manager()

    class Meta:
        ordering = ["-until"]
        verbose_name = "blocked or limited address"

    def __str__(self):
        return f"{self.kind} {self.ip} until {self.until:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        from apps.siem.restrictions import forget_restrictions

        forget_restrictions(kwargs.get("using") or self._state.db or "default")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        from apps.siem.restrictions import forget_restrictions

        forget_restrictions(kwargs.get("using") or self._state.db or "default")
        return super().delete(*args, **kwargs)


class AccountLock(models.Model):
    """An account deactivated by a playbook until a given time, and when it was let go."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    until = models.DateTimeField(db_index=True)
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"lock of user #{self.user_id} until {self.until:%Y-%m-%d %H:%M}"


# --- Forwarding ---------------------------------------------------------------------------


class ForwardingCursor(models.Model):
    """How far along the sealed chain a forwarder has delivered: the forwarding outbox.

    The chain is the outbox: every sealed event has a dense, committed sequence number, so a
    forwarder needs only the last number its collector accepted. An outage leaves the cursor
    where it was; recovery resumes after it and sends nothing twice.
    """

    name = models.CharField(max_length=64, unique=True)
    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    last_error = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return f"{self.name} at #{self.last_seq}"
