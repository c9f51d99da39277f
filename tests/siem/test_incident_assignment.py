"""Assigning an incident is an object grant: the assignee works that incident and no other.

* Ana and Ben are staff with no role: they may work exactly the incidents assigned to them.
* Sasha holds security-analyst (``incidents:{read,write}:all``) and works every incident.
* Grace is the superuser who hands incidents out.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from apps.rbac.models import Role
from apps.rbac.services import authorize, bind_role, restrict
from apps.siem import incidents
from apps.siem.models import Incident, IncidentEntry, SecurityEvent
from tests.conftest import make_person
from tests.support import force_login_verified

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/siem/incident/"


def open_incident(title):
    return Incident.objects.create(title=title, severity="high", detected_at=timezone.now())


def may(user, action, incident=None) -> bool:
    return authorize(user, action, "incidents", incident).allowed


def workable_ids(user, action="write") -> set[int]:
    return set(restrict(Incident.objects.all(), user, action).values_list("pk", flat=True))


@pytest.fixture
def grace(db):
    return make_person("grace@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def ana(db):
    return make_person("ana@example.com", is_staff=True)


@pytest.fixture
def ben(db):
    return make_person("ben@example.com", is_staff=True)


@pytest.fixture
def sasha(grace):
    sasha = make_person("sasha@example.com", is_staff=True)
    bind_role(
        role=Role.objects.get(name="security-analyst"), user=sasha, granted_by=grace,
        reason="on the security team",
    )  # fmt: skip
    return sasha


@pytest.fixture
def phishing(db):
    return open_incident("Phishing wave")


@pytest.fixture
def flood(db):
    return open_incident("API flood")


def test_without_an_assignment_a_person_without_a_role_may_do_nothing(ana, phishing):
    assert not may(ana, "read", phishing)
    assert not may(ana, "read")
    assert workable_ids(ana, "read") == set()


def test_the_assignee_may_work_exactly_the_incident_assigned_to_them(grace, ana, phishing, flood):
    incidents.assign(phishing, ana, actor=grace)

    assert may(ana, "read", phishing)
    assert may(ana, "write", phishing)
    assert not may(ana, "read", flood)
    assert not may(ana, "write", flood)
    assert not may(ana, "delete", phishing)
    assert workable_ids(ana, "read") == {phishing.pk}
    assert workable_ids(ana, "write") == {phishing.pk}


def test_reassigning_takes_the_rights_from_the_previous_assignee(grace, ana, ben, phishing):
    ana_as_a_task_holds_her = type(ana).objects.get(pk=ana.pk)
    incidents.assign(phishing, ana, actor=grace)
    assert may(ana_as_a_task_holds_her, "write", phishing)

    incidents.assign(phishing, ben, actor=grace)

    assert not may(ana_as_a_task_holds_her, "read", phishing)
    assert not may(ana, "write", phishing)
    assert workable_ids(ana, "read") == set()
    assert may(ben, "write", phishing)
    assert workable_ids(ben) == {phishing.pk}
    phishing.refresh_from_db()
    assert phishing.assignee == ben


def test_the_admin_form_reassigning_moves_the_grants_too(grace, ana, ben, phishing):
    # The admin form sets the new assignee on the object before calling the service.
    incidents.assign(phishing, ana, actor=grace)
    phishing.assignee = ben

    incidents.assign(phishing, phishing.assignee, actor=grace)

    assert not may(ana, "write", phishing)
    assert may(ben, "write", phishing)


def test_unassigning_takes_the_rights_back(grace, ana, phishing):
    incidents.assign(phishing, ana, actor=grace)

    incidents.assign(phishing, None, actor=grace)

    assert not may(ana, "read", phishing)
    phishing.refresh_from_db()
    assert phishing.assignee is None


def test_each_assignment_is_on_the_timeline_and_recorded_as_events(grace, ana, ben, phishing):
    incidents.assign(phishing, ana, actor=grace)
    incidents.assign(phishing, ben, actor=grace)

    texts = list(
        phishing.timeline.filter(kind=IncidentEntry.Kind.ASSIGNMENT).values_list("text", flat=True)
    )
    assert texts == [
        f"assigned to user #{ana.pk} (granted read, write)",
        f"reassigned from user #{ana.pk} to user #{ben.pk} (grants moved: read, write)",
    ]
    assigned = SecurityEvent.objects.filter(event_type="siem.incident.assigned").order_by("id")
    assert [(e.details["previous"], e.details["assignee"]) for e in assigned] == [
        (None, f"user:{ana.pk}"),
        (f"user:{ana.pk}", f"user:{ben.pk}"),
    ]
    assert {e.actor for e in assigned} == {f"user:{grace.pk}"}
    revoked = SecurityEvent.objects.filter(
        event_type="rbac.grant.revoked", subject=f"user:{ana.pk}"
    )
    assert sorted(e.details["action"] for e in revoked) == ["read", "write"]
    assert {e.details["object"] for e in revoked} == {str(phishing.pk)}


def test_assigning_the_same_person_again_changes_nothing(grace, ana, phishing):
    incidents.assign(phishing, ana, actor=grace)

    assert incidents.assign(phishing, ana, actor=grace) is False
    assert phishing.timeline.filter(kind=IncidentEntry.Kind.ASSIGNMENT).count() == 1
    assert SecurityEvent.objects.filter(event_type="rbac.grant.created").count() == 2


def test_an_inactive_account_cannot_be_assigned(grace, ana, phishing):
    from django.core.exceptions import ValidationError

    ana.is_active = False
    ana.save()

    with pytest.raises(ValidationError):
        incidents.assign(phishing, ana, actor=grace)
    assert not Incident.objects.filter(assignee=ana).exists()


def test_an_analyst_with_the_role_works_every_incident_assigned_or_not(
    grace, ana, sasha, phishing, flood
):
    incidents.assign(phishing, ana, actor=grace)

    assert may(sasha, "write", phishing)
    assert may(sasha, "write", flood)
    assert workable_ids(sasha) == {phishing.pk, flood.pk}


# --- The incident queue in the admin --------------------------------------------------------


def test_the_queue_lists_only_the_incidents_assigned_to_her(client, grace, ana, phishing, flood):
    incidents.assign(phishing, ana, actor=grace)
    force_login_verified(client, ana)

    answer = client.get(CHANGELIST)

    assert answer.status_code == 200
    assert [i.pk for i in answer.context["cl"].result_list] == [phishing.pk]
    assert client.get(f"{CHANGELIST}{flood.pk}/change/").status_code == 302  # "does not exist"


def test_a_queue_action_changes_only_the_incidents_she_may_write(
    client, grace, ana, phishing, flood
):
    incidents.assign(phishing, ana, actor=grace)
    force_login_verified(client, ana)

    client.post(CHANGELIST, {"action": "resolve", "_selected_action": [phishing.pk, flood.pk]})

    phishing.refresh_from_db()
    flood.refresh_from_db()
    assert phishing.status == Incident.Status.RESOLVED
    assert flood.status == Incident.Status.OPEN


def test_assign_to_me_gives_the_analyst_the_grant(client, sasha, phishing):
    force_login_verified(client, sasha)

    client.post(CHANGELIST, {"action": "assign_to_me", "_selected_action": [phishing.pk]})

    phishing.refresh_from_db()
    assert phishing.assignee == sasha
    assert SecurityEvent.objects.filter(
        event_type="rbac.grant.created", subject=f"user:{sasha.pk}"
    ).exists()


def test_someone_with_no_role_and_no_assignment_cannot_open_the_queue(client, ana, phishing):
    force_login_verified(client, ana)

    assert client.get(CHANGELIST).status_code == 403


# --- Existing assignments when the migration runs --------------------------------------------


def test_the_migration_grants_the_assignees_of_existing_incidents(ana, phishing, flood):
    # An assignment made before assignments were grants: the column only.
    Incident.objects.filter(pk=phishing.pk).update(assignee=ana)
    migration = importlib.import_module("apps.siem.migrations.0004_incident_assignee_grants")

    migration.grant_existing_assignees(django_apps, None)

    assert may(ana, "write", phishing)
    assert not may(ana, "read", flood)
