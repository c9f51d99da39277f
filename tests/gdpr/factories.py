"""A subject with a little of everything the portal stores about a person."""

from allauth.account.models import EmailAddress
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore

from apps.accounts.models import User
from apps.core.models import OutboundEmail
from apps.gdpr.models import ConsentPurpose, ConsentRecord
from apps.partners.models import Customer, Partner
from apps.siem.events import emit

SECOND_ADDRESS = "erin.work@example.org"
DISPLAY_NAME = "Erin Quillfeather"


def give_a_full_history(person, *, staff_member):
    """Addresses, sessions, consents, partner record, mail, events and admin log entries."""
    EmailAddress.objects.create(user=person, email=SECOND_ADDRESS, verified=True)

    for _ in range(2):
        session = SessionStore()
        session["_auth_user_id"] = str(person.pk)
        session.create()

    purpose, _ = ConsentPurpose.objects.get_or_create(
        slug="newsletter", version=1, defaults={"title": "Newsletter", "description": "News"}
    )
    ConsentRecord.objects.create(user=person, purpose=purpose, granted=True, source="privacy_page")

    partner, _ = Partner.objects.get_or_create(name="Acme Lending")
    Customer.objects.create(
        partner=partner, owner=person, reference=f"acme-{person.pk}",
        display_name=DISPLAY_NAME, email=person.email,
    )  # fmt: skip

    OutboundEmail.objects.create(recipients=[person.email], subject="Welcome", body_text="")

    emit("auth.login.success", actor=person, details={"method": "password"})
    emit("auth.login.failure", details={"identifier": person.email})
    emit("auth.login.failure", details={"identifier": SECOND_ADDRESS.upper()})

    user_type = ContentType.objects.get_for_model(User)
    LogEntry.objects.log_actions(
        user_id=staff_member.pk, queryset=[person], action_flag=CHANGE,
        change_message=[{"changed": {"fields": ["is_active"]}}], single_object=True,
    )  # fmt: skip
    LogEntry.objects.create(
        user=person, content_type=user_type, object_id=str(staff_member.pk),
        object_repr=str(staff_member), action_flag=CHANGE,
    )  # fmt: skip
