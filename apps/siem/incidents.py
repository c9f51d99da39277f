"""Incidents: opened by firing rules, worked by staff, acted on by playbooks."""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.publishing import publish
from apps.siem.events import emit
from apps.siem.models import DetectionRule, Incident, IncidentEntry

logger = logging.getLogger(__name__)

SYSTEM = "system:detection"
# A playbook run asked for this long ago and not finished is published again by the sweep.
PLAYBOOK_RETRY_AFTER = timedelta(minutes=5)
PLAYBOOK_SWEEP_BATCH = 200
ASSIGNED_EVENT = "siem.incident.assigned"
# What an assignee may do on the incidents assigned to them, and on no other.
ASSIGNEE_ACTIONS = ("read", "write")


def raise_incident(
    *, rule: DetectionRule, group_key: str, event_ids: list[int], title: str, severity: str
) -> tuple[Incident, bool]:
    """Open an incident for the rule and group, or add the events to the one already open.

    The playbook runs after commit when the incident is new, and again when an open one gains
    events (its actions are claimed per target, so only new targets are acted on).
    """
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
            # Recorded with the incident, so that a run whose message is lost is not.
            Incident.objects.filter(pk=incident_id).update(playbook_requested_at=timezone.now())
            transaction.on_commit(lambda: request_playbook_run(incident_id))
    if created:
        logger.warning("incident %s opened by rule %s for %s", incident.pk, rule.name, group_key)
    return incident, created


def request_playbook_run(incident_id: int) -> None:
    from apps.siem.tasks import run_playbook

    if not publish(run_playbook, incident_id):
        # The request is recorded on the incident: run_waiting_playbooks publishes it again.
        logger.warning("broker unavailable; playbook of incident %s waits", incident_id)


def run_waiting_playbooks(*, now=None) -> int:
    """Publish again the playbook runs asked for a while ago and not finished; return how many.

    Their message was lost with the broker, or the task gave up on an action that kept failing.
    Actions are claimed per target, so a run published twice does each action once.
    """
    cutoff = (now or timezone.now()) - PLAYBOOK_RETRY_AFTER
    waiting = list(
        Incident.objects.filter(playbook_requested_at__lte=cutoff)
        .order_by("playbook_requested_at")
        .values_list("pk", flat=True)[:PLAYBOOK_SWEEP_BATCH]
    )
    for incident_id in waiting:
        request_playbook_run(incident_id)
    return len(waiting)


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


def assign(incident: Incident, assignee, *, actor) -> bool:
    """Hand the incident to ``assignee`` (or to nobody): the assignment is an object grant.

    1. The incident row is locked, so two reassignments at once cannot both revoke the same
       previous holder and leave two assignees with rights.
    2. The previous assignee's grants on this incident are revoked, then the new assignee is
       granted ``ASSIGNEE_ACTIONS`` on it, through apps.rbac (which records each change).
    3. ``Incident.assignee`` is kept as the name to show; access is decided by the grants.
    4. The change goes on the timeline and is recorded as ``siem.incident.assigned``.

    Returns False when the incident already had that assignee.
    """
    from apps.rbac.services import grant_object_permission, revoke_object_permission

    if assignee is not None and not assignee.is_active:
        raise ValidationError("An incident can only be assigned to an active account.")

    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        previous = locked.assignee
        if _same_person(previous, assignee):
            incident.assignee = previous
            return False

        reason = f"assignee of incident #{incident.pk}"
        if previous is not None:
            for action in ASSIGNEE_ACTIONS:
                revoke_object_permission(
                    locked, action, user=previous, revoked_by=actor, reason=reason
                )
        if assignee is not None:
            for action in ASSIGNEE_ACTIONS:
                grant_object_permission(
                    locked, action, user=assignee, granted_by=actor, reason=reason
                )

        locked.assignee = assignee
        locked.save(update_fields=["assignee", "updated_at"])
        incident.assignee = assignee
        _first_action(incident)
        add_entry(
            incident, IncidentEntry.Kind.ASSIGNMENT,
            _assignment_text(previous, assignee), _who(actor),
        )  # fmt: skip
        emit(
            ASSIGNED_EVENT,
            actor=actor,
            subject=assignee if assignee is not None else previous,
            details={
                "incident": incident.pk,
                "previous": f"user:{previous.pk}" if previous else None,
                "assignee": f"user:{assignee.pk}" if assignee else None,
                "granted": list(ASSIGNEE_ACTIONS) if assignee else [],
            },
        )
    return True


def _same_person(one, other) -> bool:
    return getattr(one, "pk", None) == getattr(other, "pk", None)


def _assignment_text(previous, assignee) -> str:
    if assignee is None:
        return f"unassigned (grants of user #{previous.pk} revoked)"
    if previous is None:
        return f"assigned to user #{assignee.pk} (granted {', '.join(ASSIGNEE_ACTIONS)})"
    return (
        f"reassigned from user #{previous.pk} to user #{assignee.pk} "
        f"(grants moved: {', '.join(ASSIGNEE_ACTIONS)})"
    )


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
