"""Security events are kept for the security record, with only a pseudonym of the person.

Events never name a person in their actor or subject: they hold "user:<id>", and once the
account row is erased that reference points at nothing, which makes it a pseudonym. What may
still name the person is free text inside ``details``, such as the identifier typed into a
failed login. Those values are replaced by the pseudonym.

TODO: when the event table becomes append-only (database triggers refusing UPDATE), this
rewrite must go through the security-event app's audited redaction function instead of a plain
UPDATE; it is the only write this provider makes.
"""

import json

from django.db.models import Q

from apps.gdpr.registry import ORDER_SECURITY_EVENTS, Provider, Subject, register
from apps.gdpr.rows import rows
from apps.siem.models import SecurityEvent


def _replace_identifiers(value, identifiers: set[str], pseudonym: str):
    if isinstance(value, dict):
        return {k: _replace_identifiers(v, identifiers, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_identifiers(item, identifiers, pseudonym) for item in value]
    if isinstance(value, str):
        lowered = value.lower()
        for identifier in identifiers:
            if identifier in lowered:
                return pseudonym
    return value


@register
class SecurityEventProvider(Provider):
    name = "security_events"
    order = ORDER_SECURITY_EVENTS
    models = ("siem.SecurityEvent",)

    def _mentioning(self, subject: Subject):
        mentions = Q()
        for identifier in subject.emails + subject.phones:
            mentions |= Q(details__icontains=identifier)
        return SecurityEvent.objects.filter(mentions) if mentions else SecurityEvent.objects.none()

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        events = SecurityEvent.objects.filter(
            Q(actor=subject.pseudonym) | Q(subject=subject.pseudonym)
        ).order_by("occurred_at", "id")
        return {
            "security_events": rows(
                events, "occurred_at", "event_type", "outcome", "ip", "user_agent", "details"
            )
        }

    def erase(self, subject: Subject) -> dict:
        identifiers = {value.lower() for value in subject.identifiers}
        # Events of one kind carry the same details, so rows are rewritten in groups of equal
        # values: one UPDATE per distinct value rather than one per event.
        groups: dict[str, tuple[dict, list[int]]] = {}
        for event_id, details in self._mentioning(subject).values_list("id", "details"):
            replaced = _replace_identifiers(details, identifiers, subject.pseudonym)
            if replaced != details:
                key = json.dumps(replaced, sort_keys=True)
                groups.setdefault(key, (replaced, []))[1].append(event_id)
        for replaced, event_ids in groups.values():
            SecurityEvent.objects.filter(pk__in=event_ids).update(details=replaced)
        return {"pseudonymised": sum(len(ids) for _, ids in groups.values())}
