"""Incidents: opened by firing rules, worked by staff, acted on by playbooks."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.siem.models import DetectionRule, Incident, IncidentEntry

logger = logging.getLogger(__name__)

SYSTEM = "system:detection"


def raise_incident(
    *, rule: DetectionRule, group_key: str, event_ids: list[int], title: str, severity: str
) -> tuple[Incident, bool]:
    """Open an incident for the rule and group, or add the events to the one already open.

    The playbook runs after commit when the incident is new, and again when an open one gains
    events (its actions are claimed per target, so only new targets are acted on).
    """
    from apps.siem.tasks import run_playbook

    with transaction.atomic():
        incident = _active(rule, group_key)
        created = incident is None
        if created:
            try:
                with transaction.atomic():
                    incident = Incident.objects.create(
                        rule=rule, group_key=group_key, title=f"{title} ({group_key})"[:255],
                        severity=severity, detected_at=timezone.now(),
                    )  # fmt: skip
            except IntegrityError:
                # Another worker opened it a moment ago: join that one.
                created = False
                incident = _active(rule, group_key)

        through = Incident.events.through
        already = set(
            through.objects.filter(incident=incident).values_list("securityevent_id", flat=True)
        )
        new_ids = [event_id for event_id in event_ids if event_id not in already]
        through.objects.bulk_create(
            [through(incident=incident, securityevent_id=event_id) for event_id in new_ids],
            ignore_conflicts=True,
        )
        if created:
            add_entry(incident, IncidentEntry.Kind.DETECTED, f"rule {rule.name} fired", SYSTEM)
        elif new_ids:
            add_entry(incident, IncidentEntry.Kind.EVENTS, f"{len(new_ids)} more event(s)", SYSTEM)
        if (created or new_ids) and rule.playbook:
            incident_id = incident.pk
            transaction.on_commit(lambda: run_playbook.delay(incident_id))
    if created:
        logger.warning("incident %s opened by rule %s for %s", incident.pk, rule.name, group_key)
    return incident, created


def _active(rule, group_key) -> Incident | None:
    return (
        Incident.objects.select_for_update()
        .filter(rule=rule, group_key=group_key, status__in=Incident.ACTIVE_STATUSES)
        .first()
    )


def add_entry(incident: Incident, kind: str, text: str, actor: str = "") -> IncidentEntry:
    return IncidentEntry.objects.create(incident=incident, kind=kind, text=text[:500], actor=actor)


def open_manual_incident(*, title: str, severity: str, event_ids=(), by: str) -> Incident:
    """An incident raised by the system itself (a broken chain) or by staff, with no rule."""
    incident = Incident.objects.create(
        title=title[:255], severity=severity, detected_at=timezone.now()
    )
    if event_ids:
        incident.events.add(*event_ids)
    add_entry(incident, IncidentEntry.Kind.DETECTED, title, by)
    return incident


def change_status(incident: Incident, status: str, *, actor) -> None:
    if incident.status == status:
        return
    previous = incident.status
    incident.status = status
    incident.save(update_fields=["status", "updated_at"])
    _first_action(incident)
    add_entry(incident, IncidentEntry.Kind.STATUS, f"{previous} -> {status}", _who(actor))


def assign(incident: Incident, assignee, *, actor) -> None:
    incident.assignee = assignee
    incident.save(update_fields=["assignee", "updated_at"])
    _first_action(incident)
    add_entry(
        incident, IncidentEntry.Kind.ASSIGNMENT,
        f"assigned to user #{assignee.pk}" if assignee else "unassigned", _who(actor),
    )  # fmt: skip


def record_action(incident: Incident, text: str) -> None:
    _first_action(incident)
    add_entry(incident, IncidentEntry.Kind.ACTION, text, "system:playbook")


def _first_action(incident: Incident) -> None:
    # Time to first action is measured once: by the first response, automated or human.
    Incident.objects.filter(pk=incident.pk, first_action_at__isnull=True).update(
        first_action_at=timezone.now()
    )


def _who(actor) -> str:
    return f"user:{actor.pk}" if getattr(actor, "pk", None) else str(actor or "")
