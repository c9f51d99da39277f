"""Security events are kept for the security record, with only a pseudonym of the person.

The event table is append-only (database triggers refuse UPDATE and DELETE), so this provider
never writes. It does not need to: events name people only by reference ("user:<id>"), which
becomes a pseudonym once the account row is erased, and the failed-login receiver writes the
account's reference rather than the typed address whenever the address belongs to an account
(apps/accounts/receivers.py). What remains possible is an address typed before the person had
an account; the verification scan finds it and the request fails for staff to review.
"""

from django.db.models import Q

from apps.gdpr.registry import ORDER_SECURITY_EVENTS, Provider, Subject, register
from apps.gdpr.rows import rows
from apps.siem.models import SecurityEvent


@register
class SecurityEventProvider(Provider):
    name = "security_events"
    order = ORDER_SECURITY_EVENTS
    models = ("siem.SecurityEvent",)

    def _about(self, subject: Subject):
        return SecurityEvent.objects.filter(
            Q(actor=subject.pseudonym) | Q(subject=subject.pseudonym)
        )

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        return {
            "security_events": rows(
                self._about(subject).order_by("occurred_at", "id"),
                "occurred_at", "event_type", "outcome", "ip", "user_agent", "details",
            )
        }  # fmt: skip

    def erase(self, subject: Subject) -> dict:
        # Kept as they are: the count goes into the step log as evidence of what was kept.
        return {"kept_with_pseudonym": self._about(subject).count()}


@register
class AccountLockProvider(Provider):
    """Locks a playbook put on the account; incidents keep their record without the assignee."""

    name = "account_locks"
    order = ORDER_SECURITY_EVENTS - 10
    models = ("siem.AccountLock", "siem.Incident")

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        from apps.siem.models import AccountLock

        locks = AccountLock.objects.filter(user_id=subject.user_id).order_by("id")
        return {"account_locks": rows(locks, "until", "released_at")}

    def erase(self, subject: Subject) -> dict:
        from apps.siem.models import AccountLock, Incident

        deleted, _ = AccountLock.objects.filter(user_id=subject.user_id).delete()
        unassigned = Incident.objects.filter(assignee_id=subject.user_id).update(assignee=None)
        return {"deleted": deleted, "unassigned": unassigned}
